import type { SyncMapping } from '@hds/db';
import { herokuLinks } from '@hds/db';
import { and, eq, sql } from 'drizzle-orm';
import type { AccountCredentials } from './accounts.js';
import type { AuditActor } from './audit.js';
import type { SyncContext } from './context.js';
import { differsFromStored, sealEnvValue, type StoredEnvVar } from './env-vars.js';
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

/** States a successful fetch proves wrong: the credential works and the app exists. */
const HEALED_BY_FETCH = new Set(['error', 'app_missing', 'needs_reauth']);
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

interface LockedLink {
  project_id: string;
  enabled: boolean;
  applied_version: number;
  target_version: number;
  mappings: SyncMapping[];
  state: string;
  lease_owner: string | null;
}

interface StoredRow {
  name: string;
  value_encrypted: string;
  value_fingerprint: string | null;
  value_redacted: string | null;
  source: 'manual' | 'heroku';
}

/**
 * Commits release `version`'s values in one transaction, holding the link's row lock: the changed env vars
 * (encrypted), one audit row per changed var, the link's applied version and sync time, the triggering event's
 * outcome and a `pg_notify`. The version guard makes this safe under duplicates, reordering and concurrent
 * workers: a version not above the applied one changes nothing. Returns the link's target after the commit (a
 * newer release may be owed).
 *
 * This is the hot path, so it is four round trips: BEGIN, the link and its env vars read together (locked),
 * one statement for every write, COMMIT.
 */
export async function commitRelease(
  ctx: SyncContext,
  options: {
    linkId: string;
    owner: string;
    version: number;
    config: Readonly<Record<string, string>>;
    trigger: SyncTrigger;
    /** Env var names the link maps to as last seen, to read them in the same round trip as the link. */
    expectedTargets?: readonly string[];
  },
): Promise<{ committed: boolean; changedVars: number; targetVersion: number }> {
  const { keyring } = ctx;
  const sqlClient = ctx.db.$client;
  return sqlClient.begin(async (tx) => {
    const readVars = (projectIdSql: ReturnType<typeof tx>, names: readonly string[]) => tx<StoredRow[]>`
      select name, value_encrypted, value_fingerprint, value_redacted, source from project_env_vars
      where project_id = ${projectIdSql} and name = any(${names as string[]}) for update`;
    const linkQuery = tx<LockedLink[]>`
      select project_id, enabled, applied_version, target_version, mappings, state, lease_owner
      from heroku_links where id = ${options.linkId} for update`;
    // The env var rows are locked after the link row (the order every writer takes), read in the same round trip.
    const guessed = options.expectedTargets ?? [];
    const varsQuery = readVars(tx`(select project_id from heroku_links where id = ${options.linkId})`, guessed);
    const [[link], guessedRows] = await Promise.all([linkQuery, varsQuery]);
    if (!link) return { committed: false, changedVars: 0, targetVersion: 0 };
    const ours = link.lease_owner === options.owner;
    if (!link.enabled || options.version <= link.applied_version) {
      if (ours)
        await tx`update heroku_links set lease_owner = null, lease_expires_at = null where id = ${options.linkId}`;
      return { committed: false, changedVars: 0, targetVersion: link.target_version };
    }

    const { values, missing } = mapConfig({ mappings: link.mappings, config: options.config });
    const names = [...values.keys()];
    const rows = names.every((n) => guessed.includes(n))
      ? guessedRows
      : await readVars(tx`${link.project_id}::uuid`, names);
    const stored = new Map<string, StoredEnvVar>(
      rows.map((r) => [
        r.name,
        {
          name: r.name,
          valueEncrypted: r.value_encrypted,
          valueFingerprint: r.value_fingerprint,
          valueRedacted: r.value_redacted,
          source: r.source,
        },
      ]),
    );

    const upserts: Record<string, unknown>[] = [];
    const audits: Record<string, unknown>[] = [];
    const audit = (row: Record<string, unknown>) =>
      audits.push({
        project_id: link.project_id,
        link_id: options.linkId,
        actor: options.trigger.actor,
        release_version: options.version,
        event_id: options.trigger.eventId ?? null,
        var_name: null,
        before_redacted: null,
        after_redacted: null,
        before_fingerprint: null,
        after_fingerprint: null,
        detail: null,
        ...row,
      });
    for (const [name, value] of values) {
      const before = stored.get(name);
      if (!differsFromStored(keyring, link.project_id, before, value)) continue;
      const sealed = sealEnvValue(keyring, link.project_id, name, value);
      upserts.push({
        project_id: link.project_id,
        name,
        value_encrypted: sealed.valueEncrypted,
        value_fingerprint: sealed.valueFingerprint,
        value_redacted: sealed.valueRedacted,
        source: 'heroku',
      });
      audit({
        action: 'env_synced',
        var_name: name,
        before_redacted: before?.valueRedacted ?? null,
        after_redacted: sealed.valueRedacted,
        before_fingerprint: before?.valueFingerprint ?? null,
        after_fingerprint: sealed.valueFingerprint,
      });
    }
    const changedVars = upserts.length;
    const healed = HEALED_BY_FETCH.has(link.state);
    if (healed) {
      audit({
        action: 'state_changed',
        event_id: null,
        detail: tx.json({ from: link.state, to: 'active', reason: 'config fetched' }),
      });
    }
    const lastError =
      missing.length > 0 ? `release v${options.version} has no ${missing.join(', ')}; kept the current value` : null;
    const setsError = healed || link.state === 'active';
    const outcome = changedVars > 0 ? 'applied' : 'unchanged';

    // Every write in one statement: data-modifying CTEs run together, and commit together.
    const [after] = await tx<{ target_version: number }[]>`
      with
      ${
        upserts.length > 0
          ? tx`up as (
        insert into project_env_vars ${tx(upserts)}
        on conflict (project_id, name) do update set value_encrypted = excluded.value_encrypted,
          value_fingerprint = excluded.value_fingerprint, value_redacted = excluded.value_redacted,
          source = excluded.source, updated_at = now()
        returning 1),`
          : tx``
      }
      ${audits.length > 0 ? tx`au as (insert into audit_log ${tx(audits)} returning 1),` : tx``}
      ${
        options.trigger.eventId
          ? tx`ev as (
        update webhook_events set outcome = ${outcome}, processed_at = now()
        where event_id = ${options.trigger.eventId} and link_id = ${options.linkId} and outcome is null
        returning 1),`
          : tx``
      }
      ln as (
        update heroku_links set applied_version = ${options.version}, last_synced_at = now(), updated_at = now()
          ${healed ? tx`, state = 'active'` : tx``}
          ${setsError ? tx`, last_error = ${lastError}` : tx``}
          ${ours ? tx`, lease_owner = null, lease_expires_at = null` : tx``}
        where id = ${options.linkId}
        returning target_version)
      select target_version ${changedVars > 0 ? tx`, pg_notify('project_env_changed', ${link.project_id})` : tx``}
      from ln`;
    return { committed: true, changedVars, targetVersion: after?.target_version ?? link.target_version };
  });
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
      expectedTargets: claim.mappings.map((m) => m.to),
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
