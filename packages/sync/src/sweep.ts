import { scrubSecrets } from '@hds/core';
import { herokuAccounts, herokuLinks } from '@hds/db';
import type { App } from '@hds/heroku';
import { and, eq, isNotNull, or, sql } from 'drizzle-orm';
import { callsSoFar, countCalls, type AccountCredentials } from './accounts.js';
import type { SweepStats, SyncContext } from './context.js';
import { RateLimitedError } from './errors.js';
import { judgeFailure } from './failures.js';
import type { LinkRow } from './links.js';
import { releasedSince } from './released-at.js';
import { reconcileLink, type ReconcileChecks, type ReconcileResult } from './reconcile.js';

/** Routine webhook checks (no evidence of a lost delivery) may spend this share of the reconciler's budget. */
const ROUTINE_CHECK_SHARE = 0.05;
/** A claimed sweep that has not finished by then is claimed again (its worker died). */
const SWEEP_CLAIM_MS = 5 * 60_000;

export type SweepResult =
  | ({ outcome: 'swept' } & SweepStats)
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'rate_limited'; retryAt: Date; calls: number }
  | { outcome: 'failed'; message: string; calls: number };

type Outcome =
  | { outcome: 'swept'; appsSeen: number; linksBehind: number; listCalls: number }
  | Exclude<SweepResult, { outcome: 'swept' }>;

/** The reconciler's share of an account's budget, in calls per second. */
const sharePerSecond = (ctx: SyncContext) =>
  (ctx.options.reconcileBudgetShare * ctx.options.accountHourlyBudget) / 3600;
/**
 * What the reconciler's bucket holds when full (a new account's is). A sweep needs the calls it takes to see the
 * account's apps (10 pages for 10,000 apps) in the bucket, so the bucket holds at least that.
 */
const bucketSize = (ctx: SyncContext) => (sharePerSecond(ctx) * ctx.options.reconcileBucketMs) / 1000;

/**
 * Picks the accounts due for a sweep and claims them, in one statement (safe with several schedulers). An account
 * is due when its reconciler bucket (refilled at `reconcileBudgetShare` of its hourly budget, holding
 * `reconcileBucketMs` of it) holds what its last sweep spent to see the apps, its last sweep began at least
 * `reconcileMinIntervalMs` ago, and it is neither rate limited nor low on budget. Follow-ups (releases, config,
 * webhook checks of links found behind) are taken from the bucket too and may leave it in debt: the next sweep
 * waits until the debt is repaid and its pages are back, so the account's spending stays within its share, and a
 * lost delivery delays the next sweep by its own follow-ups only (asking for the whole of the last sweep's cost
 * would count them twice). Accounts without a link to look after are never due.
 */
export async function claimDueSweeps(
  ctx: SyncContext,
  options: { limit: number },
): Promise<{ accountId: string; slot: number }[]> {
  const o = ctx.options;
  const rate = sharePerSecond(ctx);
  const cap = bucketSize(ctx);
  const rows = await ctx.db.execute<{ id: string; slot: string }>(sql`
    with due as (
      select a.id,
        least(greatest(${cap}::double precision, coalesce(a.last_sweep_list_calls, 1)),
          coalesce(a.sweep_tokens, ${cap}::double precision)
          + extract(epoch from now() - coalesce(a.sweep_tokens_at, now())) * ${rate}::double precision) as tokens
      from heroku_accounts a
      where exists (select 1 from heroku_links l where l.account_id = a.id and (l.enabled or l.webhook_id is not null))
        and (a.sweep_claimed_until is null or a.sweep_claimed_until < now())
        and (a.last_swept_at is null
             or a.last_swept_at <= now() - ${o.reconcileMinIntervalMs} * interval '1 millisecond')
        and (a.rate_limited_until is null or a.rate_limited_until < now())
        and not (a.rate_limit_remaining is not null and a.rate_limit_remaining < ${o.reconcileBudgetFloor}
                 and a.rate_limit_seen_at > now() - interval '10 minutes')
      order by a.last_swept_at nulls first
      for update of a skip locked
    ),
    chosen as (
      select due.id, due.tokens from due join heroku_accounts a using (id)
      where due.tokens >= coalesce(a.last_sweep_list_calls, 1)
      limit ${options.limit}
    )
    update heroku_accounts h
    set sweep_tokens = chosen.tokens, sweep_tokens_at = now(),
        sweep_claimed_until = now() + ${SWEEP_CLAIM_MS} * interval '1 millisecond'
    from chosen
    where h.id = chosen.id
    returning h.id, (extract(epoch from now()) * 1000)::bigint::text as slot
  `);
  return rows.map((row) => ({ accountId: row.id, slot: Number(row.slot) }));
}

/**
 * One sweep of an account: pages through its app list (`GET /apps`, 1,000 a page) and, for each linked app whose
 * `released_at` moved past what its link last saw, reads the newest releases (one call) and, when the link is
 * behind, the newest release's config: one fetch per applied release, as for a webhook. (Deliveries cannot spare
 * that one call: `released_at` names a second, and a delivery of one release does not show that no other came in
 * the same second.) A release the sweep applied without its delivery leads to a webhook check once `webhookGraceMs`
 * has passed since it was released; other
 * webhooks are checked at most every `webhookCheckIntervalMs`, within a small share of the budget. Linked apps the
 * account cannot list are looked at one by one (`GET /apps/{id}`: 404 makes the link `app_missing`). Every call is
 * taken from the account's reconciler bucket, and the claim is given back.
 */
export async function sweepAccount(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: { accountId: string; owner: string },
): Promise<SweepResult> {
  const started = ctx.now();
  const [account] = await ctx.db
    .select({
      lastSweptAt: herokuAccounts.lastSweptAt,
      tokens: herokuAccounts.sweepTokens,
      listCalls: herokuAccounts.lastSweepListCalls,
    })
    .from(herokuAccounts)
    .where(eq(herokuAccounts.id, options.accountId));
  if (!account) return { outcome: 'skipped', reason: 'no such account' };
  // Every call is taken from the bucket, also those of a sweep that failed half-way.
  const spent = { calls: 0 };
  let result: Outcome | undefined;
  try {
    result = await countCalls(spent, () => sweep(ctx, credentials, { ...options, started, account }));
  } finally {
    await ctx.db
      .update(herokuAccounts)
      .set({
        sweepTokens: sql`coalesce(${herokuAccounts.sweepTokens}, ${bucketSize(ctx)}::double precision) - ${spent.calls}`,
        ...(result?.outcome === 'swept' ? { lastSweepListCalls: Math.max(1, result.listCalls) } : {}),
        lastSweptAt: started,
        sweepClaimedUntil: null,
      })
      .where(eq(herokuAccounts.id, options.accountId));
    await credentials.flushRemaining(options.accountId);
  }
  const { calls } = spent;
  if (result.outcome !== 'swept') return result.outcome === 'skipped' ? result : { ...result, calls };
  const stats: SweepStats = {
    durationMs: ctx.now().getTime() - started.getTime(),
    appsSeen: result.appsSeen,
    linksBehind: result.linksBehind,
    calls,
  };
  ctx.hooks.sweepFinished?.({ ...stats, accountId: options.accountId });
  ctx.logger.debug({ accountId: options.accountId, ...stats }, 'account swept');
  return { outcome: 'swept', ...stats };
}

type SweptLink = Pick<
  LinkRow,
  | 'id'
  | 'appId'
  | 'enabled'
  | 'state'
  | 'webhookId'
  | 'appliedVersion'
  | 'releasedAtSeen'
  | 'lastReconciledAt'
  | 'createdAt'
  | 'webhookCheckDueAt'
  | 'webhookSuspectSince'
>;

interface SweepRun {
  ctx: SyncContext;
  credentials: AccountCredentials;
  accountId: string;
  owner: string;
  started: Date;
  /** When the app list was read. */
  listedAt: Date;
  /** Routine webhook checks this sweep may still make. */
  routineLeft: number;
  linksBehind: number;
  /** Calls asking for linked apps the list lacks, one by one (part of seeing the apps). */
  appCalls: number;
}

/** What a step of the sweep says: go on, or stop (the account's budget is spent). */
type Step = { stop: false } | { stop: true; retryAt: Date };
const GO_ON: Step = { stop: false };

async function sweep(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: {
    accountId: string;
    owner: string;
    started: Date;
    account: { lastSweptAt: Date | null; tokens: number | null; listCalls: number | null };
  },
): Promise<Outcome> {
  const { accountId } = options;
  const links: SweptLink[] = await ctx.db
    .select({
      id: herokuLinks.id,
      appId: herokuLinks.appId,
      enabled: herokuLinks.enabled,
      state: herokuLinks.state,
      webhookId: herokuLinks.webhookId,
      appliedVersion: herokuLinks.appliedVersion,
      releasedAtSeen: herokuLinks.releasedAtSeen,
      lastReconciledAt: herokuLinks.lastReconciledAt,
      createdAt: herokuLinks.createdAt,
      webhookCheckDueAt: herokuLinks.webhookCheckDueAt,
      webhookSuspectSince: herokuLinks.webhookSuspectSince,
    })
    .from(herokuLinks)
    .where(
      and(eq(herokuLinks.accountId, accountId), or(eq(herokuLinks.enabled, true), isNotNull(herokuLinks.webhookId))),
    );
  if (!links.some((l) => !l.enabled || l.state !== 'needs_reauth')) {
    return { outcome: 'skipped', reason: 'no link to look after (waiting for re-authorization?)' };
  }
  try {
    await credentials.assertBudget(accountId);
  } catch (err) {
    if (err instanceof RateLimitedError) return { outcome: 'rate_limited', retryAt: err.retryAt, calls: 0 };
    throw err;
  }

  const listedAt = ctx.now();
  let apps: App[];
  try {
    apps = await credentials.client(accountId).listApps();
  } catch (error) {
    return listFailed(ctx, credentials, { accountId, links, error, started: options.started });
  }
  const byId = new Map(apps.map((app) => [app.id, app]));
  // Seeing the apps: the pages, and (below) the linked apps the list lacks, asked for one by one.
  let listCalls = callsSoFar();

  // Routine webhook checks: their own small share of the budget, plus what the bucket holds beyond half full
  // and this sweep's cost (an account whose sweeps are paced by the minimum interval, not by its budget).
  const { lastSweptAt, tokens, listCalls: lastListCalls } = options.account;
  const elapsedMs =
    lastSweptAt === null ? ctx.options.reconcileMinIntervalMs : options.started.getTime() - lastSweptAt.getTime();
  const routineRate = ROUTINE_CHECK_SHARE * sharePerSecond(ctx);
  const surplus = Math.max(0, Math.floor((tokens ?? bucketSize(ctx)) - bucketSize(ctx) / 2 - (lastListCalls ?? 1)));
  const run: SweepRun = {
    ctx,
    credentials,
    accountId,
    owner: options.owner,
    started: options.started,
    listedAt,
    routineLeft: Math.floor((elapsedMs / 1000) * routineRate + ctx.random()) + surplus,
    linksBehind: 0,
    appCalls: 0,
  };
  // The longest-waiting routine checks first.
  const dueAt = (l: SweptLink) => webhookDueAt(ctx, l).getTime();
  for (const link of [...links].sort((a, b) => dueAt(a) - dueAt(b))) {
    const step = await sweepLink(run, link, byId.get(link.appId));
    if (step.stop) return { outcome: 'rate_limited', retryAt: step.retryAt, calls: 0 };
  }
  listCalls += run.appCalls;
  return { outcome: 'swept', appsSeen: apps.length, linksBehind: run.linksBehind, listCalls };
}

/** The app list could not be read: what that means for the account's links (401: all need re-authorization). */
async function listFailed(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: { accountId: string; links: SweptLink[]; error: unknown; started: Date },
): Promise<Outcome> {
  const message = scrubSecrets(options.error instanceof Error ? options.error.message : String(options.error));
  for (const link of options.links.filter((l) => l.enabled && l.state !== 'needs_reauth')) {
    const verdict = await judgeFailure(ctx, credentials, {
      linkId: link.id,
      appId: link.appId,
      accountId: options.accountId,
      error: options.error,
      actor: 'reconciler',
    });
    if (verdict.kind === 'rate_limited') return { outcome: 'rate_limited', retryAt: verdict.error.retryAt, calls: 0 };
    if (verdict.kind === 'transient') break;
  }
  ctx.logger.warn({ accountId: options.accountId, err: options.error }, 'could not read the account’s app list');
  return { outcome: 'failed', message, calls: 0 };
}

function webhookDueAt(ctx: SyncContext, link: SweptLink): Date {
  return link.webhookCheckDueAt ?? new Date(link.createdAt.getTime() + ctx.options.webhookCheckIntervalMs);
}

/** Runs part of a reconcile of one link; a spent budget stops the sweep, other failures are the link's. */
async function check(
  run: SweepRun,
  link: SweptLink,
  checks: ReconcileChecks,
): Promise<Step | ReconcileResult | undefined> {
  try {
    const result = await reconcileLink(run.ctx, run.credentials, {
      linkId: link.id,
      reason: 'schedule',
      owner: run.owner,
      checks,
    });
    return result.outcome === 'rate_limited' ? { stop: true, retryAt: result.retryAt } : result;
  } catch (err) {
    // Transient (the link shows it); the next sweep looks again.
    run.ctx.logger.warn({ linkId: link.id, err }, 'reconciling a link failed; the next sweep tries again');
    return undefined;
  }
}

const isStep = (value: Step | ReconcileResult | undefined): value is Step => value !== undefined && 'stop' in value;

async function sweepLink(run: SweepRun, link: SweptLink, listed: App | undefined): Promise<Step> {
  const { ctx } = run;
  if (!link.enabled) {
    // Opted out, but its webhook could not be deleted then: try again.
    const done = await check(run, link, { releases: false, webhook: false });
    return isStep(done) ? done : GO_ON;
  }
  if (link.state === 'needs_reauth') return GO_ON;
  const webhookDue = webhookDueAt(ctx, link).getTime() <= run.started.getTime();

  let app = listed;
  if (!app) {
    // Not in the list (access removed, moved to a team, deleted): ask for it; a link already app_missing is asked
    // at the routine pace only.
    if (link.state === 'app_missing' && !(webhookDue && run.routineLeft > 0)) return GO_ON;
    if (link.state === 'app_missing') run.routineLeft -= 1;
    const before = callsSoFar();
    const asked = await run.credentials
      .client(run.accountId)
      .getApp(link.appId)
      .then(
        (found) => ({ found }),
        (error: unknown) => ({ error }),
      );
    run.appCalls += callsSoFar() - before;
    if ('error' in asked) {
      const verdict = await judgeFailure(ctx, run.credentials, {
        linkId: link.id,
        appId: link.appId,
        accountId: run.accountId,
        error: asked.error,
        actor: 'reconciler',
      });
      if (verdict.kind === 'rate_limited') return { stop: true, retryAt: verdict.error.retryAt };
      if (verdict.kind === 'permanent') await touchReconciled(ctx, link, webhookDue);
      return GO_ON;
    }
    app = asked.found;
  }

  let webhookChecked = false;
  const releasedAt = app.released_at ? new Date(app.released_at) : undefined;
  // Links from before sweeps have seen nothing yet: their last full reconcile looked at the newest releases.
  const seen = link.releasedAtSeen ?? link.lastReconciledAt;
  if (releasedAt !== undefined && releasedSince(releasedAt, seen)) {
    // Moved: the newest releases say whether the link is behind (then one fetch applies the newest).
    const done = await check(run, link, { releases: true, webhook: false });
    if (isStep(done)) return done;
    if (done?.outcome !== 'checked') return GO_ON;
    if (done.applied !== undefined) {
      // Behind: the release's delivery did not come (or not yet). Past the grace period that is evidence enough to
      // check the webhook now; before it, the check waits for the delivery until then.
      run.linksBehind += 1;
      if (run.started.getTime() - releasedAt.getTime() >= ctx.options.webhookGraceMs) {
        const webhook = await check(run, link, { releases: false, webhook: true });
        if (isStep(webhook)) return webhook;
        webhookChecked = true;
      } else {
        await suspectWebhook(ctx, link, releasedAt);
      }
    }
  }

  if (webhookChecked || !webhookDue) return GO_ON;
  if (link.webhookSuspectSince !== null) {
    // Evidence: a release arrived without its delivery. Unless the delivery came late, check the webhook now.
    if (await deliveredSince(ctx, link, link.webhookSuspectSince)) {
      await ctx.db
        .update(herokuLinks)
        .set({
          webhookSuspectSince: null,
          webhookCheckDueAt: sql`now() + ${ctx.options.webhookCheckIntervalMs} * interval '1 millisecond'`,
        })
        .where(eq(herokuLinks.id, link.id));
      return GO_ON;
    }
  } else if (run.routineLeft > 0) {
    run.routineLeft -= 1;
  } else {
    return GO_ON;
  }
  const done = await check(run, link, { releases: false, webhook: true });
  return isStep(done) ? done : GO_ON;
}

async function deliveredSince(ctx: SyncContext, link: SweptLink, since: Date): Promise<boolean> {
  const rows = await ctx.db.execute<{ found: boolean }>(sql`
    select exists (select 1 from webhook_events
      where link_id = ${link.id} and app_id = ${link.appId} and received_at >= ${since.toISOString()}::timestamptz)
      as found`);
  return rows[0]?.found === true;
}

/** The sweep applied a release before its delivery arrived: check the webhook once the grace period is over. */
async function suspectWebhook(ctx: SyncContext, link: SweptLink, releasedAt: Date): Promise<void> {
  const dueAt = new Date(releasedAt.getTime() + ctx.options.webhookGraceMs).toISOString();
  await ctx.db
    .update(herokuLinks)
    .set({
      webhookSuspectSince: sql`coalesce(${herokuLinks.webhookSuspectSince}, ${releasedAt.toISOString()}::timestamptz)`,
      webhookCheckDueAt: sql`least(coalesce(${herokuLinks.webhookCheckDueAt}, ${dueAt}::timestamptz), ${dueAt}::timestamptz)`,
    })
    .where(and(eq(herokuLinks.id, link.id), eq(herokuLinks.appId, link.appId)));
}

/** A link whose app could not be had: looked at now; a routine look also books the next one. */
async function touchReconciled(ctx: SyncContext, link: SweptLink, routine: boolean): Promise<void> {
  await ctx.db
    .update(herokuLinks)
    .set({
      lastReconciledAt: sql`now()`,
      ...(routine
        ? { webhookCheckDueAt: sql`now() + ${ctx.options.webhookCheckIntervalMs} * interval '1 millisecond'` }
        : {}),
    })
    .where(eq(herokuLinks.id, link.id));
}
