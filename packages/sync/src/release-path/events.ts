import type { WebhookEventOutcome } from '@hds/db';
import type { JobData } from '@hds/queue';
import { sql } from 'drizzle-orm';
import type { SyncContext } from '../context.js';
import type { Claim } from './fetch-lease.js';

/** What the event's first statement decided. */
export type RecordedEvent =
  /** The event was settled before (a redelivery of a finished job). */
  | { kind: 'already_done'; outcome: WebhookEventOutcome; accountId: string | null }
  /** Settled now, without a fetch. */
  | { kind: 'settled'; outcome: WebhookEventOutcome; reason: string | null; accountId: string | null }
  /** A fetch is owed and the caller holds the link's lease: fetch `claim.targetVersion`. */
  | { kind: 'claimed'; claim: Claim };

interface RecordRow extends Record<string, unknown> {
  outcome: WebhookEventOutcome | null;
  reason: string | null;
  already_done: boolean;
  account_id: string | null;
  claim: Claim | null;
}

/**
 * The first statement of a `release-event` job, one round trip (`hds_record_event`): records the event once per
 * event id and link, judges it against the link (unknown or disabled link, another app, a version not above the
 * applied one), and for a release that is owed raises the link's target and tries to take its fetch lease.
 * `settled` is the outcome of an event that needs no fetch whatever the link says (pending, failed, expired).
 */
export async function recordEvent(
  ctx: SyncContext,
  options: { job: JobData<'release-event'>; owner: string; settled?: WebhookEventOutcome },
): Promise<RecordedEvent> {
  const { job } = options;
  // Raw postgres.js on the hot path: the statement is prepared once per connection and no query builder runs.
  const pg = ctx.db.$client;
  const rows = await pg<RecordRow[]>`
    select outcome, reason, already_done, account_id, claim from hds_record_event(
      ${job.eventId}, ${job.linkId}, ${job.appId}, ${job.version}, ${job.action}, ${job.status},
      to_timestamp(${job.receivedAt}::double precision / 1000), ${options.settled ?? null}, ${options.owner},
      ${ctx.options.leaseMs})`;
  const row = rows[0];
  if (!row) throw new Error('hds_record_event returned no row');
  if (row.claim) return { kind: 'claimed', claim: row.claim };
  if (row.outcome === null) throw new Error('hds_record_event returned neither an outcome nor a claim');
  return row.already_done
    ? { kind: 'already_done', outcome: row.outcome, accountId: row.account_id }
    : { kind: 'settled', outcome: row.outcome, reason: row.reason, accountId: row.account_id };
}

/** Writes the outcome of an event whose fetch ended outside a commit (it failed, or found nothing to apply). */
export async function settleEvent(
  ctx: SyncContext,
  options: { eventId: string; linkId: string; outcome: WebhookEventOutcome },
): Promise<void> {
  await ctx.db.execute(sql`select hds_settle_event(${options.eventId}, ${options.linkId}, ${options.outcome})`);
}
