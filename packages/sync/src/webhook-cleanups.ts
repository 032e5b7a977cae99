import { scrubSecrets } from '@hds/core';
import { webhookCleanups, type DbOrTx } from '@hds/db';
import { isHerokuApiError } from '@hds/heroku';
import { eq, sql } from 'drizzle-orm';
import type { AccountCredentials } from './accounts.js';
import { appendAudit, type AuditActor } from './audit.js';
import type { SyncContext } from './context.js';

/** Why a webhook is no longer the link's (created before the move, or for the old app while it moved). */
const REASON = 'the link moved to another app';
/** What is left to do when Heroku refuses a deletion for good. */
const GIVE_UP = 'not retried: Heroku refused it for good; delete the webhook on the app by hand (heroku webhooks)';

/**
 * Queues the deletion of a webhook of ours left on an app the link no longer syncs (it is still signed with a
 * valid secret), inside the caller's transaction: deleted at once by `runWebhookCleanups` when Heroku answers,
 * else by the link's next reconcile.
 */
export async function queueWebhookCleanup(
  db: DbOrTx,
  cleanup: { linkId: string; accountId: string; appId: string; webhookId: string },
): Promise<void> {
  const { linkId, accountId, appId, webhookId } = cleanup;
  await db.insert(webhookCleanups).values({ linkId, accountId, appId, webhookId });
}

/**
 * Deletes the link's queued webhooks on Heroku, each with an audit row (a 404 counts as done, without one). A deletion
 * that failed for a passing reason (5xx, 429, no answer) stays queued with its error (an audit row says so the first
 * time); one Heroku refuses for good (401 after a refresh, 403: the old account's credentials or access are gone) is
 * dropped with an audit row saying to delete it by hand. Returns how many are still queued.
 */
export async function runWebhookCleanups(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: { linkId: string; projectId: string; actor: AuditActor },
): Promise<number> {
  const queued = await ctx.db.select().from(webhookCleanups).where(eq(webhookCleanups.linkId, options.linkId));
  let left = 0;
  for (const cleanup of queued) {
    const detail = { webhookId: cleanup.webhookId, appId: cleanup.appId, reason: REASON };
    let deleted = true;
    try {
      await credentials.client(cleanup.accountId).deleteWebhook(cleanup.appId, cleanup.webhookId);
    } catch (err) {
      // Gone already (with its app, say): nothing to delete, nothing to audit.
      deleted = false;
      if (isHerokuApiError(err) && !err.transient && err.kind !== 'not_found') {
        // Refused for good (the account's credentials no longer work, or it lost access to the app): asking again
        // would fail the same way on every reconcile. The audit row says what is left to do.
        const error = scrubSecrets(err.message).slice(0, 500);
        await ctx.db.transaction(async (tx) => {
          await tx.delete(webhookCleanups).where(eq(webhookCleanups.id, cleanup.id));
          await appendAudit(tx, {
            projectId: options.projectId,
            linkId: options.linkId,
            action: 'webhook_delete_failed',
            actor: options.actor,
            detail: { ...detail, error, retry: GIVE_UP },
          });
        });
        ctx.logger.warn(
          { linkId: options.linkId, webhookId: cleanup.webhookId, err },
          'gave up deleting an old webhook',
        );
        continue;
      }
      if (!isHerokuApiError(err, 'not_found')) {
        left += 1;
        const error = scrubSecrets(err instanceof Error ? err.message : String(err)).slice(0, 500);
        await ctx.db.transaction(async (tx) => {
          await tx
            .update(webhookCleanups)
            .set({ attempts: sql`${webhookCleanups.attempts} + 1`, lastError: error })
            .where(eq(webhookCleanups.id, cleanup.id));
          if (cleanup.attempts === 0) {
            await appendAudit(tx, {
              projectId: options.projectId,
              linkId: options.linkId,
              action: 'webhook_delete_failed',
              actor: options.actor,
              detail: { ...detail, error, retry: 'the reconciler will delete it' },
            });
          }
        });
        ctx.logger.warn(
          { linkId: options.linkId, webhookId: cleanup.webhookId, err },
          'could not delete an old webhook',
        );
        continue;
      }
    }
    await ctx.db.transaction(async (tx) => {
      await tx.delete(webhookCleanups).where(eq(webhookCleanups.id, cleanup.id));
      if (!deleted) return;
      await appendAudit(tx, {
        projectId: options.projectId,
        linkId: options.linkId,
        action: 'webhook_deleted',
        actor: options.actor,
        detail,
      });
    });
  }
  return left;
}
