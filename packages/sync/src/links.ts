import { herokuLinks, type DbOrTx, type LinkState } from '@hds/db';
import { and, eq } from 'drizzle-orm';
import type { AuditActor } from './audit.js';
import { formatMappings } from './mappings.js';
import { setLinkState } from './release-path/index.js';

export type LinkRow = typeof herokuLinks.$inferSelect;

/** The sync's status as the admin API shows it. */
export interface SyncStatus {
  enabled: boolean;
  linkId: string | null;
  accountId: string | null;
  app: { id: string; name: string } | null;
  mappings: ReturnType<typeof formatMappings>;
  state: LinkState | 'disabled';
  lastReleaseVersion: number | null;
  lastSyncedAt: string | null;
  lastReconciledAt: string | null;
  lastError: string | null;
  webhookId: string | null;
}

export function toSyncStatus(link: LinkRow | undefined): SyncStatus {
  if (!link) {
    return {
      enabled: false,
      linkId: null,
      accountId: null,
      app: null,
      mappings: {},
      state: 'disabled',
      lastReleaseVersion: null,
      lastSyncedAt: null,
      lastReconciledAt: null,
      lastError: null,
      webhookId: null,
    };
  }
  return {
    enabled: link.enabled,
    linkId: link.id,
    accountId: link.accountId,
    app: { id: link.appId, name: link.appName },
    mappings: formatMappings(link.mappings),
    state: link.enabled ? link.state : 'disabled',
    lastReleaseVersion: link.appliedVersion > 0 ? link.appliedVersion : null,
    lastSyncedAt: link.lastSyncedAt?.toISOString() ?? null,
    lastReconciledAt: link.lastReconciledAt?.toISOString() ?? null,
    lastError: link.lastError,
    webhookId: link.webhookId,
  };
}

export async function findLinkByProject(db: DbOrTx, projectId: string): Promise<LinkRow | undefined> {
  const [row] = await db.select().from(herokuLinks).where(eq(herokuLinks.projectId, projectId));
  return row;
}

export async function findLink(db: DbOrTx, linkId: string): Promise<LinkRow | undefined> {
  const [row] = await db.select().from(herokuLinks).where(eq(herokuLinks.id, linkId));
  return row;
}

/** After a new sign-in, links that waited for re-authorization work again: mark them active (then reconcile them). */
export async function rearmAccountLinks(
  db: DbOrTx,
  options: { accountId: string; actor: AuditActor },
): Promise<string[]> {
  const rows = await db
    .select({ id: herokuLinks.id })
    .from(herokuLinks)
    .where(
      and(
        eq(herokuLinks.accountId, options.accountId),
        eq(herokuLinks.enabled, true),
        eq(herokuLinks.state, 'needs_reauth'),
      ),
    );
  for (const row of rows) {
    await setLinkState(db, {
      linkId: row.id,
      from: ['needs_reauth'],
      state: 'active',
      lastError: null,
      actor: options.actor,
      detail: { reason: 'account re-authorized' },
    });
  }
  return rows.map((r) => r.id);
}
