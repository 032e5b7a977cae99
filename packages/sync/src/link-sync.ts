import { isHerokuApiError } from '@hds/heroku';
import type { AccountCredentials } from './accounts.js';
import type { AuditActor } from './audit.js';
import type { SyncContext } from './context.js';
import { claimFetch, commitRelease, lowerTarget, releaseLease, type Claim } from './release-path/index.js';
import { newestSucceededRelease } from './releases.js';

/** What started a fetch, for the audit log and latency metrics. */
export interface SyncTrigger {
  actor: AuditActor;
  /** The event whose processing runs the fetch: the commit records its outcome. */
  eventId?: string;
  /** When the webhook that caused this arrived (ms since epoch). */
  receivedAt?: number;
}

export type SyncLinkResult =
  | { kind: 'applied'; version: number; changedVars: number; fetches: number }
  /** Another process holds the link's fetch lease; it will pick up the newest target when it commits. */
  | { kind: 'coalesced' }
  /** Fetched, but nothing could be committed: `stale` (applied meanwhile), `other_app` (the link moved). */
  | { kind: 'refused'; status: 'stale' | 'other_app' }
  /** Heroku has no release `version` of the app (which exists): the target went back to `newest`. */
  | { kind: 'no_such_release'; version: number; newest: number };

/**
 * After Heroku answered 404 for a release's config: if the app itself exists, the release does not (a target
 * raised by hand, by a forged or misrouted event). Lowers the link's target to the app's newest succeeded release
 * and returns it; rethrows `notFound` when the app is gone (the link becomes `app_missing`).
 */
async function lowerToNewest(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: { linkId: string; claim: Claim; notFound: unknown },
): Promise<number> {
  const { claim } = options;
  const client = credentials.client(claim.accountId);
  try {
    await client.getApp(claim.appId);
  } catch (err) {
    throw isHerokuApiError(err, 'not_found') ? options.notFound : err;
  }
  const newest =
    (await newestSucceededRelease(client, { appId: claim.appId, window: ctx.options.reconcileReleaseWindow })) ?? 0;
  await lowerTarget(ctx, { linkId: options.linkId, appId: claim.appId, from: claim.targetVersion, to: newest });
  ctx.logger.warn(
    { linkId: options.linkId, release: claim.targetVersion, newest },
    "Heroku has no such release of the app: the link's target goes back to its newest",
  );
  return newest;
}

/** A burst can move the target while we fetch; after this many rounds the rest is left to the next event. */
const MAX_ROUNDS = 10;

/**
 * Brings a link on app `appId` up to its target release: claim the lease (or use the one the caller took; the
 * first claim raises the target to `raiseTo`), fetch the config as of the target release (one call), commit, and
 * repeat while events raised the target meanwhile. A release Heroku does not have (its app exists) lowers the
 * target to the app's newest release (`lowerToNewest`). Throws Heroku errors to the caller, which decides what they
 * mean for the link (see `failures.ts`).
 */
export async function syncLink(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: {
    linkId: string;
    appId: string;
    owner: string;
    trigger: SyncTrigger;
    claimed?: Claim;
    raiseTo?: number;
  },
): Promise<SyncLinkResult> {
  const { linkId, appId, owner } = options;
  let fetches = 0;
  let changedVars = 0;
  let version = 0;
  let trigger = options.trigger;
  let claim: Claim | undefined = options.claimed;
  let raiseTo = options.raiseTo;
  let refused: 'stale' | 'other_app' | undefined;
  let noSuchRelease: { version: number; newest: number } | undefined;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    claim ??= await claimFetch(ctx, { linkId, appId, owner, ...(raiseTo === undefined ? {} : { raiseTo }) });
    raiseTo = undefined;
    if (!claim) break;
    let config: Record<string, string>;
    try {
      await credentials.assertBudget(claim.accountId);
      config = await credentials.client(claim.accountId).getReleaseConfigVars(claim.appId, claim.targetVersion);
      fetches += 1;
    } catch (err) {
      await releaseLease(ctx, { linkId, owner });
      if (!isHerokuApiError(err, 'not_found')) throw err;
      const newest = await lowerToNewest(ctx, credentials, { linkId, claim, notFound: err });
      noSuchRelease ??= { version: claim.targetVersion, newest };
      claim = undefined;
      continue;
    }
    const commit = await commitRelease(ctx, {
      linkId,
      appId: claim.appId,
      owner,
      version: claim.targetVersion,
      config,
      actor: trigger.actor,
      ...(trigger.eventId === undefined ? {} : { eventId: trigger.eventId }),
      projectId: claim.projectId,
      mappings: claim.mappings,
    });
    if (commit.status !== 'committed') refused ??= commit.status;
    else {
      version = claim.targetVersion;
      changedVars += commit.changedVars;
      ctx.hooks.releaseApplied?.({
        linkId,
        version,
        changedVars: commit.changedVars,
        ...(trigger.receivedAt === undefined ? {} : { receivedAt: trigger.receivedAt }),
      });
      ctx.logger.info(
        { linkId, release: version, changedVars: commit.changedVars, actor: trigger.actor },
        commit.changedVars > 0 ? 'release applied' : 'release applied (no mapped var changed)',
      );
    }
    if (commit.targetVersion <= claim.targetVersion) break;
    // Later rounds apply releases other events announced: they are not this event's outcome.
    trigger = { actor: trigger.actor };
    claim = undefined;
  }
  if (fetches === 0) return noSuchRelease ? { kind: 'no_such_release', ...noSuchRelease } : { kind: 'coalesced' };
  if (version === 0 && refused) return { kind: 'refused', status: refused };
  return { kind: 'applied', version, changedVars, fetches };
}
