import { randomUUID } from 'node:crypto';
import { herokuLinks, type SyncMapping } from '@hds/db';
import { isHerokuApiError, type App } from '@hds/heroku';
import { and, eq, sql } from 'drizzle-orm';
import type { AccountCredentials } from './accounts.js';
import { appendAudit } from './audit.js';
import type { SyncContext } from './context.js';
import { SyncError } from './errors.js';
import { judgeFailure } from './failures.js';
import { syncLink } from './link-sync.js';
import { findLinkByProject, type LinkRow } from './links.js';
import { formatMappings } from './mappings.js';
import { releasePathReset, setLinkState } from './release-path/index.js';
import { noteCaughtUp } from './released-at.js';
import { newestSucceededRelease } from './releases.js';
import { queueWebhookCleanup, runWebhookCleanups } from './webhook-cleanups.js';
import { ensureWebhook } from './webhooks.js';

function sameMappings(a: readonly SyncMapping[], b: readonly SyncMapping[]): boolean {
  return JSON.stringify(formatMappings(a)) === JSON.stringify(formatMappings(b));
}

/** The app as the account sees it; `app_not_visible` when it cannot see it. */
export async function lookUpApp(credentials: AccountCredentials, accountId: string, app: string): Promise<App> {
  try {
    return await credentials.client(accountId).getApp(app);
  } catch (err) {
    if (isHerokuApiError(err, 'not_found') || isHerokuApiError(err, 'forbidden')) {
      throw new SyncError('app_not_visible', `the Heroku account cannot see an app called "${app}"`, { cause: err });
    }
    if (isHerokuApiError(err, 'unauthorized')) {
      throw new SyncError('heroku_refused', 'Heroku no longer accepts this account; sign in with Heroku again', {
        cause: err,
      });
    }
    if (isHerokuApiError(err) && err.transient)
      throw new SyncError('heroku_unavailable', 'Heroku did not answer; try again', { cause: err });
    throw new SyncError('heroku_refused', isHerokuApiError(err) ? err.message : 'Heroku refused', { cause: err });
  }
}

/** How long an enable may run before another one may take the link over (its Heroku calls have timeouts). */
const CHANGE_LEASE_MS = 2 * 60_000;

const conflict = () =>
  new SyncError('conflict', "another change of this project's sync is in progress; try again when it is done");

/**
 * Records the link for an enable, in one transaction, and claims it for this change (`change_owner`): a
 * concurrent enable of the same project finds it claimed (or loses the insert) and gets `conflict`.
 */
async function recordEnable(
  ctx: SyncContext,
  options: { projectId: string; accountId: string; app: App; mappings: SyncMapping[]; changeOwner: string },
): Promise<LinkRow> {
  const { app } = options;
  const claim = {
    changeOwner: options.changeOwner,
    changeExpiresAt: sql`now() + ${CHANGE_LEASE_MS} * interval '1 millisecond'`,
  };
  return ctx.db.transaction(async (tx) => {
    const [found] = await tx
      .select({ link: herokuLinks, busy: sql<boolean>`coalesce(${herokuLinks.changeExpiresAt} > now(), false)` })
      .from(herokuLinks)
      .where(eq(herokuLinks.projectId, options.projectId))
      .for('update');
    if (!found) {
      const [created] = await tx
        .insert(herokuLinks)
        .values({
          id: randomUUID(),
          projectId: options.projectId,
          accountId: options.accountId,
          appId: app.id,
          appName: app.name,
          mappings: options.mappings,
          ...claim,
        })
        .onConflictDoNothing({ target: herokuLinks.projectId })
        .returning();
      if (!created) throw conflict();
      await appendAudit(tx, {
        projectId: options.projectId,
        linkId: created.id,
        action: 'sync_enabled',
        actor: 'admin',
        detail: { app: app.name, appId: app.id, mappings: formatMappings(options.mappings) },
      });
      return created;
    }
    if (found.busy) throw conflict();
    const current = found.link;
    const sameApp = current.appId === app.id;
    const unchanged =
      current.enabled &&
      sameApp &&
      current.accountId === options.accountId &&
      sameMappings(current.mappings, options.mappings);
    const [updated] = await tx
      .update(herokuLinks)
      .set(
        unchanged
          ? claim
          : {
              ...claim,
              accountId: options.accountId,
              appId: app.id,
              appName: app.name,
              mappings: options.mappings,
              enabled: true,
              ...(current.enabled ? {} : { state: 'active' as const, lastError: null }),
              // Release versions are per app: moving to another app starts over (and its old webhook is not ours to keep).
              // What the reconciler saw of the old app says nothing about the new one.
              ...(sameApp
                ? {}
                : {
                    ...releasePathReset,
                    webhookId: null,
                    releasedAtSeen: null,
                    lastReconciledAt: null,
                    webhookSuspectSince: null,
                  }),
              nextReconcileAt: sql`now()`,
              updatedAt: sql`now()`,
            },
      )
      .where(eq(herokuLinks.id, current.id))
      .returning();
    if (!updated) throw new Error('link update returned nothing');
    if (unchanged) return updated;
    if (!sameApp && current.webhookId) {
      // The old app's webhook still delivers to this link, signed with a valid secret: it goes.
      await queueWebhookCleanup(tx, {
        linkId: current.id,
        accountId: current.accountId,
        appId: current.appId,
        webhookId: current.webhookId,
      });
    }
    await appendAudit(tx, {
      projectId: options.projectId,
      linkId: current.id,
      action: current.enabled && sameApp ? 'mappings_changed' : 'sync_enabled',
      actor: 'admin',
      detail: {
        app: app.name,
        appId: app.id,
        mappings: formatMappings(options.mappings),
        ...(sameApp ? {} : { previousApp: current.appName }),
      },
    });
    return updated;
  });
}

/**
 * Enables the sync of a project with a Heroku app: records the link, makes sure the app has our webhook, and
 * applies the app's current config before returning, so the env var is right at once. Idempotent: enabling
 * again with the same app changes nothing and creates no second webhook. Enabling with another app moves
 * the link (its applied version starts over: versions are per app). One change of a link at a time: an enable
 * that arrives while another runs fails with `conflict` (409).
 */
export async function enableSync(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: { projectId: string; accountId: string; app: string; mappings: SyncMapping[] },
): Promise<LinkRow> {
  const app = await lookUpApp(credentials, options.accountId, options.app);
  const changeOwner = randomUUID();
  const link = await recordEnable(ctx, { ...options, app, changeOwner });
  try {
    await completeEnable(ctx, credentials, { link });
  } finally {
    await ctx.db
      .update(herokuLinks)
      .set({ changeOwner: null, changeExpiresAt: null })
      .where(and(eq(herokuLinks.id, link.id), eq(herokuLinks.changeOwner, changeOwner)));
  }
  const final = await findLinkByProject(ctx.db, options.projectId);
  if (!final) throw new Error('link vanished');
  return final;
}

/** After the link is recorded: the webhook, and the app's current config (both may fail without failing the enable). */
async function completeEnable(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: { link: LinkRow },
): Promise<void> {
  const { link } = options;
  const client = credentials.client(link.accountId);
  await runWebhookCleanups(ctx, credentials, { linkId: link.id, projectId: link.projectId, actor: 'admin' });
  try {
    await ensureWebhook(ctx, { db: ctx.db, client, link, actor: 'admin' });
  } catch (err) {
    // Without a webhook the reconciler still keeps the URL right, only later; say so on the link.
    const message = `could not create the Heroku webhook: ${err instanceof Error ? err.message : String(err)}`;
    await setLinkState(ctx.db, {
      linkId: link.id,
      appId: link.appId,
      state: 'webhook_missing',
      lastError: message,
      actor: 'admin',
    });
    ctx.logger.warn({ linkId: link.id, err }, 'webhook creation failed at enable');
  }

  try {
    const lookedAt = ctx.now();
    const newest = await newestSucceededRelease(client, {
      appId: link.appId,
      window: ctx.options.reconcileReleaseWindow,
    });
    if (newest !== undefined) {
      await syncLink(ctx, credentials, {
        linkId: link.id,
        appId: link.appId,
        owner: `enable:${randomUUID()}`,
        trigger: { actor: 'admin' },
        raiseTo: newest,
      });
    }
    // Applied the current release: the sweep covers the link from its next pass, without a check of its own.
    await noteCaughtUp(ctx.db, { linkId: link.id, appId: link.appId, lookedAt });
  } catch (error) {
    const verdict = await judgeFailure(ctx, credentials, {
      linkId: link.id,
      appId: link.appId,
      accountId: link.accountId,
      error,
      actor: 'admin',
    });
    if (verdict.kind !== 'permanent')
      ctx.logger.warn({ linkId: link.id, err: error }, 'initial sync deferred to the reconciler');
  }
}
