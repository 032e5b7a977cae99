import type { WebhookEventOutcome } from '@hds/db';
import { knownReleaseStatus } from '@hds/heroku';
import type { JobData } from '@hds/queue';
import type { AccountCredentials } from './accounts.js';
import type { SyncContext } from './context.js';
import { assertNever } from './errors.js';
import { judgeFailure } from './failures.js';
import { syncLink } from './link-sync.js';
import { recordEvent, settleEvent } from './release-path/index.js';

export type ReleaseEventJob = JobData<'release-event'>;

export type ReleaseEventResult =
  | { outcome: WebhookEventOutcome; version?: number; reason?: string; alreadyDone?: boolean }
  /** Heroku's budget for the account is spent: run again at `retryAt` (not a failed attempt). */
  | { outcome: 'rate_limited'; retryAt: Date };

/** An event that needs no fetch whatever the link says: its outcome, and why. */
function settledByStatus(status: string): { outcome: WebhookEventOutcome; reason: string } | undefined {
  const known = knownReleaseStatus(status);
  switch (known) {
    case 'pending':
      return { outcome: 'waiting', reason: 'release pending; its update will follow' };
    case 'failed':
    case 'expired':
      return { outcome: 'dropped', reason: `release ${known}` };
    case undefined:
      return { outcome: 'ignored', reason: 'unknown release status' };
    case 'succeeded':
      return undefined;
    default:
      return assertNever(known);
  }
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
  const { job, owner } = options;
  const settled = settledByStatus(job.status);
  const recorded = await recordEvent(ctx, { job, owner, ...(settled ? { settled: settled.outcome } : {}) });
  switch (recorded.kind) {
    case 'already_done':
      return { outcome: recorded.outcome, alreadyDone: true };
    case 'settled': {
      const reason = settled?.reason ?? recorded.reason;
      return { outcome: recorded.outcome, ...(reason ? { reason } : {}) };
    }
    case 'claimed':
      break;
    default:
      return assertNever(recorded);
  }

  const { claim } = recorded;
  const settle = (outcome: WebhookEventOutcome) =>
    settleEvent(ctx, { eventId: job.eventId, linkId: job.linkId, outcome });
  try {
    const result = await syncLink(ctx, credentials, {
      linkId: job.linkId,
      appId: claim.appId,
      owner,
      trigger: { actor: 'webhook', eventId: job.eventId, receivedAt: job.receivedAt },
      claimed: claim,
    });
    // The commit recorded the event's outcome in its transaction, except when nothing was fetched.
    switch (result.kind) {
      case 'coalesced':
        await settle('coalesced');
        return { outcome: 'coalesced' };
      case 'refused':
        return result.status === 'stale'
          ? { outcome: 'stale', reason: 'applied meanwhile' }
          : { outcome: 'ignored', reason: 'the link moved to another app' };
      case 'no_such_release': {
        await settle('ignored');
        const reason = `Heroku has no release v${result.version} of this app; the link's target is back at v${result.newest}`;
        return { outcome: 'ignored', reason };
      }
      case 'applied':
        return { outcome: result.changedVars > 0 ? 'applied' : 'unchanged', version: result.version };
      default:
        return assertNever(result);
    }
  } catch (error) {
    const verdict = await judgeFailure(ctx, credentials, {
      linkId: job.linkId,
      appId: claim.appId,
      accountId: claim.accountId,
      error,
      actor: 'webhook',
    });
    switch (verdict.kind) {
      case 'transient':
        throw verdict.error;
      case 'rate_limited':
        return { outcome: 'rate_limited', retryAt: verdict.error.retryAt };
      case 'permanent':
        await settle('failed');
        return { outcome: 'failed', reason: verdict.message };
      default:
        return assertNever(verdict);
    }
  }
}
