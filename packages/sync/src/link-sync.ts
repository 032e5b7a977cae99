import type { SyncMapping } from '@hds/db';
import { herokuLinks, projectEnvVars } from '@hds/db';
import { and, eq, sql } from 'drizzle-orm';
import type { AccountCredentials } from './accounts.js';
import { appendAudit, type AuditActor, type AuditRow } from './audit.js';
import type { SyncContext } from './context.js';
import { differsFromStored, lockEnvVars, sealEnvValue } from './env-vars.js';
import { mapConfig } from './mappings.js';

/** What started a fetch, for the audit log and latency metrics. */
export interface SyncTrigger {
  actor: AuditActor;
  eventId?: string;
  /** When the webhook that caused this arrived (ms since epoch). */
  receivedAt?: number;
}

export type SyncLinkResult =
  | { kind: 'applied'; version: number; changedVars: number; fetches: number }
  /** Another process holds the link's fetch lease; it will pick up the newest target when it commits. */
  | { kind: 'coalesced' };

/** States a successful fetch proves wrong: the credential works and the app exists. */
const HEALED_BY_FETCH = new Set(['error', 'app_missing', 'needs_reauth']);
/** A burst can move the target while we fetch; after this many rounds the rest is left to the next event. */
const MAX_ROUNDS = 10;

interface Claim {
  projectId: string;
  accountId: string;
  appId: string;
  targetVersion: number;
  mappings: SyncMapping[];
}

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

/**
 * Commits release `version`'s values in one transaction, holding the link's row lock: the changed env vars
 * (encrypted), one audit row per changed var, the link's applied version and sync time, a `pg_notify`.
 * The version guard makes this safe under duplicates, reordering and concurrent workers: a version not above
 * the applied one changes nothing. Returns the link's target after the commit (a newer release may be owed).
 */
export async function commitRelease(
  ctx: SyncContext,
  options: {
    linkId: string;
    owner: string;
    version: number;
    config: Readonly<Record<string, string>>;
    trigger: SyncTrigger;
  },
): Promise<{ committed: boolean; changedVars: number; targetVersion: number }> {
  const { keyring } = ctx;
  return ctx.db.transaction(async (tx) => {
    const [link] = await tx.select().from(herokuLinks).where(eq(herokuLinks.id, options.linkId)).for('update');
    if (!link) return { committed: false, changedVars: 0, targetVersion: 0 };
    const releaseLeaseIfOurs = link.leaseOwner === options.owner ? { leaseOwner: null, leaseExpiresAt: null } : {};
    if (!link.enabled || options.version <= link.appliedVersion) {
      if (link.leaseOwner === options.owner) {
        await tx.update(herokuLinks).set(releaseLeaseIfOurs).where(eq(herokuLinks.id, link.id));
      }
      return { committed: false, changedVars: 0, targetVersion: link.targetVersion };
    }

    const { values, missing } = mapConfig({ mappings: link.mappings, config: options.config });
    const stored = await lockEnvVars(tx, { projectId: link.projectId, names: [...values.keys()] });
    const audits: AuditRow[] = [];
    for (const [name, value] of values) {
      const before = stored.get(name);
      if (!differsFromStored(keyring, link.projectId, before, value)) continue;
      const sealed = sealEnvValue(keyring, link.projectId, name, value);
      await tx
        .insert(projectEnvVars)
        .values({ projectId: link.projectId, name, source: 'heroku', ...sealed })
        .onConflictDoUpdate({
          target: [projectEnvVars.projectId, projectEnvVars.name],
          set: { ...sealed, source: 'heroku', updatedAt: sql`now()` },
        });
      audits.push({
        projectId: link.projectId,
        linkId: link.id,
        action: 'env_synced',
        actor: options.trigger.actor,
        varName: name,
        beforeRedacted: before?.valueRedacted ?? null,
        afterRedacted: sealed.valueRedacted,
        beforeFingerprint: before?.valueFingerprint ?? null,
        afterFingerprint: sealed.valueFingerprint,
        releaseVersion: options.version,
        eventId: options.trigger.eventId ?? null,
      });
    }

    const healed = HEALED_BY_FETCH.has(link.state);
    if (healed) {
      audits.push({
        projectId: link.projectId,
        linkId: link.id,
        action: 'state_changed',
        actor: options.trigger.actor,
        releaseVersion: options.version,
        detail: { from: link.state, to: 'active', reason: 'config fetched' },
      });
    }
    const lastError =
      missing.length > 0 ? `release v${options.version} has no ${missing.join(', ')}; kept the current value` : null;
    await tx
      .update(herokuLinks)
      .set({
        appliedVersion: options.version,
        lastSyncedAt: sql`now()`,
        updatedAt: sql`now()`,
        ...(healed ? { state: 'active' as const } : {}),
        ...(healed || link.state === 'active' ? { lastError } : {}),
        ...releaseLeaseIfOurs,
      })
      .where(eq(herokuLinks.id, link.id));
    await appendAudit(tx, audits);
    const changedVars = audits.filter((a) => a.action === 'env_synced').length;
    if (changedVars > 0) await tx.execute(sql`select pg_notify('project_env_changed', ${link.projectId})`);
    return { committed: true, changedVars, targetVersion: link.targetVersion };
  });
}

/**
 * Brings a link up to its target release: claim the lease, fetch the config as of the target release (one
 * call), commit, and repeat while events raised the target meanwhile. Throws Heroku errors to the caller,
 * which decides what they mean for the link (see `failures.ts`).
 */
export async function syncLink(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: { linkId: string; owner: string; trigger: SyncTrigger },
): Promise<SyncLinkResult> {
  let fetches = 0;
  let changedVars = 0;
  let version = 0;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const claim = await claimLease(ctx, options.linkId, options.owner);
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
      trigger: options.trigger,
    });
    if (commit.committed) {
      version = claim.targetVersion;
      changedVars += commit.changedVars;
      ctx.hooks.releaseApplied?.({
        linkId: options.linkId,
        version,
        changedVars: commit.changedVars,
        ...(options.trigger.receivedAt === undefined ? {} : { receivedAt: options.trigger.receivedAt }),
      });
      ctx.logger.info(
        { linkId: options.linkId, release: version, changedVars: commit.changedVars, actor: options.trigger.actor },
        commit.changedVars > 0 ? 'release applied' : 'release applied (no mapped var changed)',
      );
    }
    if (commit.targetVersion <= claim.targetVersion) break;
  }
  return fetches === 0 ? { kind: 'coalesced' } : { kind: 'applied', version, changedVars, fetches };
}
