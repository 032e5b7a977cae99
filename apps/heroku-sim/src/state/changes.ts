import type { AccessToken, OAuthClient, RefreshToken } from '../oauth/oauth-state.js';
import type { Account, App, Attachment, PostgresAddon, Release, Webhook, WebhookEvent } from './model.js';

/**
 * One change of the sim's state, as the persistence writes it (`SIM_STATE_URL`). Each names the object that
 * changed; the writer stores the object as it is when written, so a later change of the same object is never
 * overwritten by an earlier one.
 */
export type StateChange =
  | { kind: 'account'; account: Account }
  | { kind: 'app'; app: App }
  | { kind: 'app-deleted'; appId: string }
  | { kind: 'addon'; app: App; addon: PostgresAddon }
  | { kind: 'attachment'; app: App; attachment: Attachment }
  | { kind: 'release'; app: App; release: Release }
  | { kind: 'event'; app: App; event: WebhookEvent }
  | { kind: 'webhook'; app: App; webhook: Webhook }
  | { kind: 'webhook-deleted'; webhookId: string }
  | { kind: 'oauth-client'; client: OAuthClient }
  | { kind: 'refresh-token'; token: RefreshToken }
  | { kind: 'access-token'; token: AccessToken }
  | { kind: 'reset' };

export type StateChangeListener = (change: StateChange) => void;

/** What identifies the changed object: two changes with one key write the same row. */
export function changeKey(change: StateChange): string {
  switch (change.kind) {
    case 'account':
      return `account:${change.account.id}`;
    case 'app':
      return `app:${change.app.id}`;
    case 'app-deleted':
      return `app-deleted:${change.appId}`;
    case 'addon':
      return `addon:${change.addon.id}`;
    case 'attachment':
      return `attachment:${change.attachment.id}`;
    case 'release':
      return `release:${change.release.id}`;
    case 'event':
      return `event:${change.event.id}`;
    case 'webhook':
      return `webhook:${change.webhook.id}`;
    case 'webhook-deleted':
      return `webhook-deleted:${change.webhookId}`;
    case 'oauth-client':
      return `oauth-client:${change.client.id}`;
    case 'refresh-token':
      return `refresh-token:${change.token.token}`;
    case 'access-token':
      return `access-token:${change.token.token}`;
    case 'reset':
      return 'reset';
    default: {
      const unexpected: never = change;
      throw new Error(`unknown state change ${String(unexpected)}`);
    }
  }
}
