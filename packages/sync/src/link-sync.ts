import type { SyncMapping } from '@hds/db';
import { herokuLinks } from '@hds/db';
import { and, eq, sql } from 'drizzle-orm';
import type { AccountCredentials } from './accounts.js';
import type { AuditActor } from './audit.js';
import type { SyncContext } from './context.js';
import { sealEnvValue } from './env-vars.js';
import { mapConfig } from './mappings.js';

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
  | { kind: 'coalesced' };

/** A link whose fetch lease we hold, with what the fetch needs. */
export interface Claim {
  projectId: string;
  accountId: string;
  appId: string;
  targetVersion: number;
  mappings: SyncMapping[];
}

/** A burst can move the target while we fetch; after this many rounds the rest is left to the next event. */
const MAX_ROUNDS = 10;

/**
 * Takes the link's fetch lease if a fetch is owed (target above applied) and nobody else holds it.
 * The lease makes concurrent events for one app coalesce into at most one more fetch.
 */
async function claimLease(ctx: SyncContext, linkId: string, owner: string): Promise<Claim | undefined> {
  const [row] = await ctx.db
    .update(herokuLinks)
    .set({ leaseOwner: owner, leaseExpiresAt: sql`now() + ${ctx.options.leaseMs} * interval '1 millisecond'` })
    .where(
      and(
        eq(herokuLinks.id, linkId),
        eq(herokuLinks.enabled, true),
        sql`${herokuLinks.targetVersion} > ${herokuLinks.appliedVersion}`,
        sql`(${herokuLinks.leaseOwner} is null or ${herokuLinks.leaseExpiresAt} < now() or ${herokuLinks.leaseOwner} = ${owner})`,
      ),
    )
    .returning({
      projectId: herokuLinks.projectId,
      accountId: herokuLinks.accountId,
      appId: herokuLinks.appId,
      targetVersion: herokuLinks.targetVersion,
      mappings: herokuLinks.mappings,
    });
  return row;
}

export async function releaseLease(ctx: SyncContext, linkId: string, owner: string): Promise<void> {
  await ctx.db
    .update(herokuLinks)
    .set({ leaseOwner: null, leaseExpiresAt: null })
    .where(and(eq(herokuLinks.id, linkId), eq(herokuLinks.leaseOwner, owner)));
}

interface CommitAnswer {
  status: 'committed' | 'stale' | 'missing' | 'mappings_changed';
  changed_vars: number;
  target_version: number;
}

/**
 * Commits release `version`'s values, computed here with the link's mappings: in one transaction under the
 * link's row lock, the changed env vars (encrypted), one audit row per changed var, the link's applied version
 * and sync time, the triggering event's outcome and a `pg_notify`. The version guard makes this safe under
 * duplicates, reordering and concurrent workers: a version not above the applied one changes nothing. Returns the
 * link's target after the commit (a newer release may be owed).
 *
 * The hot path: one round trip, to the `hds_commit_release` function (packages/db/drizzle/0005_*.sql).
 */
export async function commitRelease(
  ctx: SyncContext,
  options: {
    linkId: string;
    owner: string;
    version: number;
    config: Readonly<Record<string, string>>;
    trigger: SyncTrigger;
    /** The link's project (env var ciphertexts are bound to it) and mappings as last read; changed mappings are read again. */
    projectId: string;
    mappings: SyncMapping[];
  },
): Promise<{ committed: boolean; changedVars: number; targetVersion: number }> {
  const { keyring } = ctx;
  const sql = ctx.db.$client;
  let mappings = options.mappings;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const { values, missing } = mapConfig({ mappings, config: options.config });
    const { projectId } = options;
    const sealed = [...values].map(([name, value]) => {
      const { valueEncrypted, valueFingerprint, valueRedacted } = sealEnvValue(keyring, projectId, name, value);
      return {
        name,
        enc: valueEncrypted,
        fp: valueFingerprint,
        red: valueRedacted,
        fps: keyring.fingerprintCandidates(value),
      };
    });
    const lastError =
      missing.length > 0 ? `release v${options.version} has no ${missing.join(', ')}; kept the current value` : null;
    // JSON goes as text: drizzle's postgres.js client passes json parameters through unserialised.
    const [answer] = await sql<CommitAnswer[]>`
      select * from hds_commit_release(${options.linkId}, ${options.owner}, ${options.version},
        ${JSON.stringify(mappings)}::jsonb, ${JSON.stringify(sealed)}::jsonb,
        ${options.trigger.actor}, ${options.trigger.eventId ?? null}, ${lastError})`;
    if (!answer) throw new Error('hds_commit_release returned nothing');
    if (answer.status === 'mappings_changed') {
      const [row] = await ctx.db
        .select({ mappings: herokuLinks.mappings })
        .from(herokuLinks)
        .where(eq(herokuLinks.id, options.linkId));
      if (!row) return { committed: false, changedVars: 0, targetVersion: 0 };
      mappings = row.mappings;
      continue;
    }
    return {
      committed: answer.status === 'committed',
      changedVars: answer.changed_vars,
      targetVersion: answer.target_version,
    };
  }
  throw new Error("the link's mappings kept changing during the commit");
}

/**
 * Brings a link up to its target release: claim the lease (or use the one the caller took), fetch the config
 * as of the target release (one call), commit, and repeat while events raised the target meanwhile. Throws
 * Heroku errors to the caller, which decides what they mean for the link (see `failures.ts`).
 */
export async function syncLink(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: { linkId: string; owner: string; trigger: SyncTrigger; claimed?: Claim },
): Promise<SyncLinkResult> {
  let fetches = 0;
  let changedVars = 0;
  let version = 0;
  let trigger = options.trigger;
  let claim: Claim | undefined = options.claimed;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    claim ??= await claimLease(ctx, options.linkId, options.owner);
    if (!claim) break;
    let config: Record<string, string>;
    try {
      await credentials.assertBudget(claim.accountId);
      config = await credentials.client(claim.accountId).getReleaseConfigVars(claim.appId, claim.targetVersion);
      fetches += 1;
    } catch (err) {
      await releaseLease(ctx, options.linkId, options.owner);
      throw err;
    }
    const commit = await commitRelease(ctx, {
      linkId: options.linkId,
      owner: options.owner,
      version: claim.targetVersion,
      config,
      trigger,
      projectId: claim.projectId,
      mappings: claim.mappings,
    });
    if (commit.committed) {
      version = claim.targetVersion;
      changedVars += commit.changedVars;
      ctx.hooks.releaseApplied?.({
        linkId: options.linkId,
        version,
        changedVars: commit.changedVars,
        ...(trigger.receivedAt === undefined ? {} : { receivedAt: trigger.receivedAt }),
      });
      ctx.logger.info(
        { linkId: options.linkId, release: version, changedVars: commit.changedVars, actor: trigger.actor },
        commit.changedVars > 0 ? 'release applied' : 'release applied (no mapped var changed)',
      );
    }
    if (commit.targetVersion <= claim.targetVersion) break;
    // Later rounds apply releases other events announced: they are not this event's outcome.
    trigger = { actor: trigger.actor };
    claim = undefined;
  }
  return fetches === 0 ? { kind: 'coalesced' } : { kind: 'applied', version, changedVars, fetches };
}
