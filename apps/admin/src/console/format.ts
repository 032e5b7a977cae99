import type { AuditAction, SyncStatus } from '@hds/sync';

type LinkState = SyncStatus['state'];
import { html, type SafeHtml } from './html.js';

/** `2026-11-23 14:38:02 UTC`, in a `<time>` element, or a dash. */
export function when(iso: string | null | undefined): SafeHtml {
  if (!iso) return html`<span class="muted">—</span>`;
  const text = `${iso.slice(0, 19).replace('T', ' ')} UTC`;
  return html`<time datetime="${iso}">${text}</time>`;
}

const STATE_LABELS: Record<LinkState | 'disabled', string> = {
  active: 'Active',
  needs_reauth: 'Needs sign-in',
  app_missing: 'App missing',
  webhook_missing: 'Webhook missing',
  config_var_missing: 'Config var missing',
  error: 'Error',
  disabled: 'Off',
};

export function stateBadge(state: LinkState): SafeHtml {
  return html`<span class="badge ${state}" data-state="${state}">${STATE_LABELS[state]}</span>`;
}

const ACTION_LABELS: Record<AuditAction, string> = {
  env_synced: 'Synced from Heroku',
  env_set: 'Set by hand',
  sync_enabled: 'Sync enabled',
  sync_disabled: 'Sync turned off',
  mappings_changed: 'Mappings changed',
  state_changed: 'State changed',
  webhook_created: 'Webhook created',
  webhook_recreated: 'Webhook re-created',
  webhook_delete_failed: 'Webhook not deleted',
  webhook_deleted: 'Webhook deleted',
  webhook_secret_rotated: 'Webhook secret rotated',
  destination_created: 'Destination added',
  destination_deleted: 'Destination removed',
  destination_disabled: 'Destination disabled',
  deliveries_redelivered: 'Deliveries sent again',
  token_created: 'Read token created',
  token_revoked: 'Read token revoked',
  env_revealed: 'Values revealed',
  env_cutover: 'Cut over to the new database',
  migration_started: 'Data migration started',
  migration_cancelled: 'Data migration cancelled',
};

export const actionLabel = (action: AuditAction): string => ACTION_LABELS[action];

/** The short form of a keyed fingerprint (`hmac-sha256:3f2a…` → `3f2a1b9c`): tells values apart, reveals nothing. */
export function shortFingerprint(fingerprint: string | null | undefined): string | null {
  if (!fingerprint) return null;
  return fingerprint.replace(/^[a-z0-9-]+:/, '').slice(0, 8);
}
