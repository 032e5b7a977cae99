import { webhookEvents, type SyncMapping, type WebhookEventOutcome } from '@hds/db';
import { knownReleaseStatus } from '@hds/heroku';
import type { JobData } from '@hds/queue';
import { and, eq, sql } from 'drizzle-orm';
import type { AccountCredentials } from './accounts.js';
import type { SyncContext } from './context.js';
import { assertNever } from './errors.js';
import { judgeFailure } from './failures.js';
import { syncLink } from './link-sync.js';

export type ReleaseEventJob = JobData<'release-event'>;

export type ReleaseEventResult =
  | { outcome: WebhookEventOutcome; version?: number; reason?: string; alreadyDone?: boolean }
  /** Heroku's budget for the account is spent: run again at `retryAt` (not a failed attempt). */
  | { outcome: 'rate_limited'; retryAt: Date };

interface RecordRow extends Record<string, unknown> {
  existing_outcome: WebhookEventOutcome | null;
  inserted: boolean | null;
  verdict: WebhookEventOutcome | null;
  verdict_reason: string | null;
  targeted: boolean;
  claimed: boolean | null;
  account_id: string | null;
  claim: {
    project_id: string;
    account_id: string;
    app_id: string;
    target_version: number;
    mappings: SyncMapping[];
  } | null;
}

/**
 * One round trip for the common case: records the event (once per event id), judges it against the link
 * (unknown or disabled link, another app, a version not above the applied one), and for a release that is
 * owed raises the link's target and tries to take its fetch lease.
 */
async function recordAndClaim(ctx: SyncContext, job: ReleaseEventJob, owner: string): Promise<RecordRow> {
  const pg = ctx.db.$client;
  // Raw postgres.js on the hot path: the statement is prepared once per connection and no query builder runs.
  const rows = await pg<RecordRow[]>`
    with link as (
      select id, enabled, app_id, applied_version, account_id from heroku_links where id = ${job.linkId}
    ),
    verdict as (
      select case
        when not exists (select 1 from link) then 'ignored'
        when not (select enabled from link) then 'ignored'
        when (select app_id from link) <> ${job.appId}::uuid then 'ignored'
        when (select applied_version from link) >= ${job.version} then 'stale'
      end as outcome,
      case
        when not exists (select 1 from link) then 'unknown link'
        when not (select enabled from link) then 'sync disabled'
        when (select app_id from link) <> ${job.appId}::uuid then 'event for another app'
        when (select applied_version from link) >= ${job.version} then 'not newer than the applied release'
      end as reason
    ),
    event as (
      insert into webhook_events
        (event_id, link_id, app_id, release_version, action, release_status, received_at, outcome, processed_at)
      select ${job.eventId}, ${job.linkId}, ${job.appId}, ${job.version}, ${job.action}, ${job.status},
             to_timestamp(${job.receivedAt}::double precision / 1000), verdict.outcome,
             case when verdict.outcome is null then null else now() end
      from verdict
      on conflict (event_id, link_id) do update set attempts = webhook_events.attempts + 1
      returning outcome, (xmax = 0) as inserted
    ),
    claim as (
      update heroku_links h set
        target_version = greatest(h.target_version, ${job.version}),
        lease_owner = case when h.lease_owner is null or h.lease_expires_at < now() or h.lease_owner = ${owner}
                           then ${owner} else h.lease_owner end,
        lease_expires_at = case when h.lease_owner is null or h.lease_expires_at < now() or h.lease_owner = ${owner}
                                then now() + ${ctx.options.leaseMs} * interval '1 millisecond' else h.lease_expires_at end
      from event
      where h.id = ${job.linkId} and h.enabled and h.app_id = ${job.appId}::uuid
        and h.applied_version < ${job.version} and event.outcome is null
      returning h.lease_owner = ${owner} as claimed, h.project_id, h.account_id, h.app_id, h.target_version, h.mappings
    )
    select
      (select outcome from event) as existing_outcome,
      (select inserted from event) as inserted,
      (select outcome from verdict) as verdict,
      (select reason from verdict) as verdict_reason,
      exists (select 1 from claim) as targeted,
      (select claimed from claim) as claimed,
      (select account_id from link) as account_id,
      (select row_to_json(claim) from claim) as claim
  `;
  const row = rows[0];
  if (!row) throw new Error('recordAndClaim returned no row');
  return row;
}

async function recordOutcome(ctx: SyncContext, job: ReleaseEventJob, outcome: WebhookEventOutcome): Promise<void> {
  await ctx.db
    .update(webhookEvents)
    .set({ outcome, processedAt: sql`now()` })
    .where(and(eq(webhookEvents.eventId, job.eventId), eq(webhookEvents.linkId, job.linkId)));
}

/** Records an event that will not be applied (pending, failed, expired, unknown status). Idempotent. */
async function recordSettled(ctx: SyncContext, job: ReleaseEventJob, outcome: WebhookEventOutcome): Promise<void> {
  await ctx.db
    .insert(webhookEvents)
    .values({
      eventId: job.eventId,
      linkId: job.linkId,
      appId: job.appId,
      releaseVersion: job.version,
      action: job.action,
      releaseStatus: job.status,
      receivedAt: new Date(job.receivedAt),
      outcome,
      processedAt: sql`now()`,
    })
    .onConflictDoNothing();
}

/**
 * Handles one `api:release` delivery for a link. Only `succeeded` releases are applied: `pending` waits for
 * its `update`, `failed` and `expired` are recorded and dropped. A succeeded release above the link's applied
 * version raises the link's target; whoever holds the link's lease fetches the target release's config and
 * commits it. The durable dedupe is the version guard, so redeliveries and reordering change nothing.
 */
export async function processReleaseEvent(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: { job: ReleaseEventJob; owner: string },
): Promise<ReleaseEventResult> {
  const startedAt = ctx.now();
  const { job, owner } = options;
  const status = knownReleaseStatus(job.status);
  switch (status) {
    case 'pending':
      await recordSettled(ctx, job, 'waiting');
      return { outcome: 'waiting', reason: 'release pending; its update will follow' };
    case 'failed':
    case 'expired':
      await recordSettled(ctx, job, 'dropped');
      return { outcome: 'dropped', reason: `release ${status}` };
    case undefined:
      await recordSettled(ctx, job, 'ignored');
      return { outcome: 'ignored', reason: 'unknown release status' };
    case 'succeeded':
      break;
    default:
      return assertNever(status);
  }

  const row = await recordAndClaim(ctx, job, owner);
  if (!row.inserted && row.existing_outcome !== null) {
    return { outcome: row.existing_outcome, alreadyDone: true };
  }
  if (row.inserted && row.verdict !== null) {
    return { outcome: row.verdict, ...(row.verdict_reason ? { reason: row.verdict_reason } : {}) };
  }
  if (!row.targeted) {
    // Became stale between the judgement and the update (another worker applied it), or a retry found
    // the link changed: record what is true now.
    const outcome = row.verdict ?? 'stale';
    await recordOutcome(ctx, job, outcome);
    return { outcome, ...(row.verdict_reason ? { reason: row.verdict_reason } : {}) };
  }
  if (!row.claimed) {
    await recordOutcome(ctx, job, 'coalesced');
    return { outcome: 'coalesced', reason: 'another worker is fetching this app; it will apply the newest release' };
  }

  try {
    const claimed = row.claim && {
      projectId: row.claim.project_id,
      accountId: row.claim.account_id,
      appId: row.claim.app_id,
      targetVersion: row.claim.target_version,
      mappings: row.claim.mappings,
    };
    const result = await syncLink(ctx, credentials, {
      linkId: job.linkId,
      owner,
      trigger: { actor: 'webhook', eventId: job.eventId, receivedAt: job.receivedAt },
      ...(claimed ? { claimed } : {}),
    });
    if (result.kind === 'coalesced') {
      await recordOutcome(ctx, job, 'coalesced');
      return { outcome: 'coalesced' };
    }
    // The commit recorded the event's outcome in its transaction.
    const outcome: WebhookEventOutcome = result.changedVars > 0 ? 'applied' : 'unchanged';
    return { outcome, version: result.version };
  } catch (error) {
    const verdict = await judgeFailure(ctx, credentials, {
      startedAt,
      linkId: job.linkId,
      accountId: row.account_id ?? '',
      error,
      actor: 'webhook',
    });
    switch (verdict.kind) {
      case 'transient':
        throw verdict.error;
      case 'rate_limited':
        return { outcome: 'rate_limited', retryAt: verdict.error.retryAt };
      case 'permanent':
        await recordOutcome(ctx, job, 'failed');
        return { outcome: 'failed', reason: verdict.message };
      default:
        return assertNever(verdict);
    }
  }
}
