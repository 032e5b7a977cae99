import { herokuLinks } from '@hds/db';
import { isHerokuApiError } from '@hds/heroku';
import { and, eq, sql } from 'drizzle-orm';
import type { AccountCredentials } from './accounts.js';
import { appendAudit } from './audit.js';
import type { SyncContext } from './context.js';
import { assertNever } from './errors.js';
import { judgeFailure } from './failures.js';
import { syncLink } from './link-sync.js';
import { findLink } from './links.js';
import { HEALED_BY_RECONCILE, setLinkState } from './release-path/index.js';
import { noteCaughtUp } from './released-at.js';
import { newestSucceededRelease } from './releases.js';
import { runWebhookCleanups } from './webhook-cleanups.js';
import { ensureWebhook, type WebhookCheck } from './webhooks.js';

/** Heroku calls a routine reconcile makes: the newest releases and the webhook. */
export const CALLS_PER_RECONCILE = 2;

export type ReconcileReason = 'schedule' | 'manual' | 'recovery';

export type ReconcileResult =
  | { outcome: 'skipped'; reason: string }
  | {
      outcome: 'checked';
      newestRelease: number | undefined;
      applied: number | undefined;
      /** Undefined when only the releases were checked. */
      webhook: WebhookCheck | undefined;
    }
  | { outcome: 'cleaned_up'; webhookDeleted: boolean }
  | { outcome: 'failed'; state: string; message: string }
  | { outcome: 'rate_limited'; retryAt: Date };

/** What a reconcile looks at: the newest releases (one call, and a fetch when behind), the webhook (one call). */
export interface ReconcileChecks {
  releases: boolean;
  webhook: boolean;
}

const FULL_CHECK: ReconcileChecks = { releases: true, webhook: true };

/**
 * Checks one link against Heroku, for when webhooks get lost: applies the newest succeeded release if the link
 * is behind, and re-creates the webhook if Heroku no longer has it (a sweep asks for one of the two only). For a
 * disabled link whose webhook could not be deleted at opt-out, tries the deletion again.
 */
export async function reconcileLink(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: { linkId: string; reason: ReconcileReason; owner: string; checks?: ReconcileChecks },
): Promise<ReconcileResult> {
  const checks = options.checks ?? FULL_CHECK;
  const startedAt = ctx.now();
  const link = await findLink(ctx.db, options.linkId);
  if (!link) return { outcome: 'skipped', reason: 'no such link' };
  if (!link.enabled) {
    if (!link.webhookId) return { outcome: 'skipped', reason: 'sync disabled' };
    return cleanUpWebhook(ctx, credentials, { ...link, webhookId: link.webhookId });
  }
  if (link.state === 'needs_reauth' && options.reason === 'schedule') {
    return { outcome: 'skipped', reason: 'waiting for the account to be re-authorized' };
  }

  try {
    await credentials.assertBudget(link.accountId);
    await runWebhookCleanups(ctx, credentials, { linkId: link.id, projectId: link.projectId, actor: 'reconciler' });
    const client = credentials.client(link.accountId);
    const newest = checks.releases
      ? await newestSucceededRelease(client, { appId: link.appId, window: ctx.options.reconcileReleaseWindow })
      : undefined;
    let applied: number | undefined;
    if (newest !== undefined) {
      // Fetches when a release was missed or the mappings changed since the applied one (the claim decides);
      // raised for the app the releases were read from only: a link moved meanwhile is left alone.
      const result = await syncLink(ctx, credentials, {
        linkId: link.id,
        appId: link.appId,
        owner: options.owner,
        trigger: { actor: 'reconciler' },
        raiseTo: newest,
      });
      if (result.kind === 'applied') {
        applied = result.version;
        ctx.logger.info(
          { linkId: link.id, newest, behind: link.appliedVersion, result: result.kind },
          'reconciler caught up a missed release',
        );
      }
    }
    // The newest releases were read and applied (or being applied by the lease's holder): caught up as of then.
    if (checks.releases) await noteCaughtUp(ctx.db, { linkId: link.id, appId: link.appId, lookedAt: startedAt });
    let webhook: WebhookCheck | undefined;
    if (checks.webhook) {
      webhook = (await ensureWebhook(ctx, { db: ctx.db, client, link, actor: 'reconciler' })).check;
      if (checks.releases) {
        await setLinkState(ctx.db, {
          linkId: link.id,
          appId: link.appId,
          from: HEALED_BY_RECONCILE,
          state: 'active',
          lastError: null,
          actor: 'reconciler',
          detail: { reason: 'reconciled' },
        });
      }
    }
    await ctx.db
      .update(herokuLinks)
      .set({ lastReconciledAt: sql`now()`, ...(checks.webhook ? webhookChecked(ctx) : {}) })
      .where(eq(herokuLinks.id, link.id));
    await credentials.flushRemaining(link.accountId);
    return { outcome: 'checked', newestRelease: newest, applied, webhook };
  } catch (error) {
    const verdict = await judgeFailure(ctx, credentials, {
      linkId: link.id,
      appId: link.appId,
      accountId: link.accountId,
      error,
      actor: 'reconciler',
    });
    switch (verdict.kind) {
      case 'transient':
        throw verdict.error;
      case 'rate_limited':
        return { outcome: 'rate_limited', retryAt: verdict.error.retryAt };
      case 'permanent':
        await ctx.db
          .update(herokuLinks)
          .set({ lastReconciledAt: sql`now()` })
          .where(eq(herokuLinks.id, link.id));
        return { outcome: 'failed', state: verdict.state, message: verdict.message };
      default:
        return assertNever(verdict);
    }
  }
}

/** A link's webhook was just checked: the next routine check is an interval away (±10%), no evidence pending. */
function webhookChecked(ctx: SyncContext) {
  const ms = ctx.options.webhookCheckIntervalMs * (0.9 + ctx.random() * 0.2);
  return {
    webhookCheckDueAt: sql`now() + ${ms} * interval '1 millisecond'`,
    webhookSuspectSince: null,
  };
}

async function cleanUpWebhook(
  ctx: SyncContext,
  credentials: AccountCredentials,
  link: { id: string; projectId: string; accountId: string; appId: string; webhookId: string },
): Promise<ReconcileResult> {
  try {
    await credentials.client(link.accountId).deleteWebhook(link.appId, link.webhookId);
  } catch (err) {
    if (!isHerokuApiError(err, 'not_found')) {
      if (isHerokuApiError(err) && err.transient) throw err;
      ctx.logger.warn({ linkId: link.id, err }, 'could not delete the webhook of a disabled sync');
      return { outcome: 'cleaned_up', webhookDeleted: false };
    }
  }
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(herokuLinks)
      .set({ webhookId: null })
      .where(and(eq(herokuLinks.id, link.id), eq(herokuLinks.enabled, false)));
    await appendAudit(tx, {
      projectId: link.projectId,
      linkId: link.id,
      action: 'webhook_deleted',
      actor: 'reconciler',
      detail: { webhookId: link.webhookId, reason: 'left over from opt-out' },
    });
  });
  return { outcome: 'cleaned_up', webhookDeleted: true };
}

/**
 * Picks the links due for a reconcile and books their next one, in one statement (safe with several
 * schedulers: rows are claimed with SKIP LOCKED). The interval keeps each account's reconciling within
 * `reconcileBudgetShare` of its hourly budget: an account with n links reconciles each every
 * n · CALLS_PER_RECONCILE / (share · budget) hours, never more often than `reconcileMinIntervalMs`. An account
 * at its rate limit, or running low on budget, is left alone for now.
 */
export async function claimDueLinks(
  ctx: SyncContext,
  options: { limit: number },
): Promise<{ linkId: string; slot: number }[]> {
  const o = ctx.options;
  const hourlyShare = o.reconcileBudgetShare * o.accountHourlyBudget;
  const rows = await ctx.db.execute<{ id: string; slot: string }>(sql`
    with per_account as (
      select account_id, count(*)::int as links from heroku_links where enabled or webhook_id is not null group by account_id
    ),
    due as (
      select l.id, l.account_id
      from heroku_links l
      join heroku_accounts a on a.id = l.account_id
      where (l.enabled or l.webhook_id is not null)
        and l.next_reconcile_at <= now()
        and (a.rate_limited_until is null or a.rate_limited_until < now())
        and not (a.rate_limit_remaining is not null and a.rate_limit_remaining < ${o.reconcileBudgetFloor}
                 and a.rate_limit_seen_at > now() - interval '10 minutes')
      order by l.next_reconcile_at
      limit ${options.limit}
      for update of l skip locked
    )
    update heroku_links h
    set next_reconcile_at = now() + make_interval(secs => greatest(
          ${o.reconcileMinIntervalMs / 1000}::double precision,
          per_account.links * ${CALLS_PER_RECONCILE} * 3600.0 / ${hourlyShare}
        ) * (0.9 + random() * 0.2))
    from due join per_account using (account_id)
    where h.id = due.id
    returning h.id, (extract(epoch from h.next_reconcile_at) * 1000)::bigint::text as slot
  `);
  return rows.map((row) => ({ linkId: row.id, slot: Number(row.slot) }));
}
