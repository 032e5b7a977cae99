import { herokuLinks } from '@hds/db';
import { isHerokuApiError } from '@hds/heroku';
import { and, eq, sql } from 'drizzle-orm';
import type { AccountCredentials } from './accounts.js';
import { appendAudit } from './audit.js';
import type { SyncContext } from './context.js';
import { SyncError } from './errors.js';
import { findLinkByProject } from './links.js';
import { leaseCleared } from './release-path/index.js';

/**
 * Opts a project out of the sync: deletes the Heroku webhook and turns the sync off, keeping the env vars as
 * they are. When Heroku cannot be reached the sync still turns off at once; the webhook id is kept, the audit
 * row says the deletion failed, and the reconciler deletes it later (deliveries meanwhile are ignored). A deleted
 * webhook gets its own `webhook_deleted` audit row, before `sync_disabled`.
 */
export async function disableSync(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: { projectId: string },
): Promise<{ webhookDeleted: boolean }> {
  const link = await findLinkByProject(ctx.db, options.projectId);
  if (!link || !link.enabled) throw new SyncError('not_found', 'the sync is not enabled for this project');

  let webhookDeleted = link.webhookId === null;
  let failure: string | undefined;
  if (link.webhookId) {
    try {
      await credentials.client(link.accountId).deleteWebhook(link.appId, link.webhookId);
      webhookDeleted = true;
    } catch (err) {
      if (isHerokuApiError(err, 'not_found')) webhookDeleted = true;
      else failure = err instanceof Error ? err.message : String(err);
    }
  }

  await ctx.db.transaction(async (tx) => {
    await tx
      .update(herokuLinks)
      .set({
        enabled: false,
        state: 'disabled',
        lastError: failure ? `the Heroku webhook could not be deleted yet: ${failure}` : null,
        ...leaseCleared,
        nextReconcileAt: sql`now() + interval '1 minute'`,
        updatedAt: sql`now()`,
        ...(webhookDeleted ? { webhookId: null } : {}),
      })
      .where(and(eq(herokuLinks.id, link.id), eq(herokuLinks.enabled, true)));
    if (link.webhookId && webhookDeleted) {
      await appendAudit(tx, {
        projectId: link.projectId,
        linkId: link.id,
        action: 'webhook_deleted',
        actor: 'admin',
        detail: { webhookId: link.webhookId, app: link.appName, reason: 'opted out' },
      });
    }
    if (failure) {
      await appendAudit(tx, {
        projectId: link.projectId,
        linkId: link.id,
        action: 'webhook_delete_failed',
        actor: 'admin',
        detail: { webhookId: link.webhookId, error: failure, retry: 'the reconciler will delete it' },
      });
    }
    await appendAudit(tx, {
      projectId: link.projectId,
      linkId: link.id,
      action: 'sync_disabled',
      actor: 'admin',
      detail: { app: link.appName, webhookDeleted },
    });
  });
  ctx.logger.info({ linkId: link.id, webhookDeleted }, 'sync disabled');
  return { webhookDeleted };
}
