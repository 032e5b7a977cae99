import { herokuLinks, type SyncMapping } from '@hds/db';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { SyncContext } from '../context.js';

/** A link whose fetch lease we hold, with what the fetch needs. */
export interface Claim {
  projectId: string;
  accountId: string;
  /** The app the lease was taken for: the fetch and the commit are for this app only. */
  appId: string;
  targetVersion: number;
  mappings: SyncMapping[];
}

interface ClaimRow extends Record<string, unknown> {
  claimed: boolean;
  project_id: string;
  account_id: string;
  target_version: number;
  mappings: SyncMapping[];
}

/**
 * Takes the link's fetch lease (`hds_claim_fetch`) if it is on `appId`, owes a fetch (its target is above its
 * applied version, or its mappings changed since) and nobody else holds it; first raises its target to `raiseTo`
 * (a release the caller saw on Heroku). Undefined when no fetch is owed or another holder has it: concurrent work
 * for one link coalesces into at most one more fetch.
 */
export async function claimFetch(
  ctx: SyncContext,
  options: { linkId: string; appId: string; owner: string; raiseTo?: number },
): Promise<Claim | undefined> {
  const rows = await ctx.db.execute<ClaimRow>(sql`
    select claimed, project_id, account_id, target_version, mappings
    from hds_claim_fetch(${options.linkId}, ${options.appId}, ${options.owner}, ${ctx.options.leaseMs},
      ${options.raiseTo ?? 0})`);
  const row = rows[0];
  if (!row?.claimed) return undefined;
  return {
    projectId: row.project_id,
    accountId: row.account_id,
    appId: options.appId,
    targetVersion: row.target_version,
    mappings: row.mappings,
  };
}

/** Gives the lease back, if `owner` still holds it (`hds_release_lease`). */
export async function releaseLease(ctx: SyncContext, options: { linkId: string; owner: string }): Promise<void> {
  await ctx.db.execute(sql`select hds_release_lease(${options.linkId}, ${options.owner})`);
}

/**
 * The one place the target goes down: Heroku has no release `from` for the app (a target raised by hand, by a
 * forged or misrouted event), so it becomes the app's newest succeeded release `to` (never below the applied
 * version). Only if the target is still `from`: a newer target set meanwhile is someone else's to check.
 */
export async function lowerTarget(
  ctx: SyncContext,
  options: { linkId: string; appId: string; from: number; to: number },
): Promise<boolean> {
  if (options.to >= options.from) return false;
  const rows = await ctx.db
    .update(herokuLinks)
    .set({ targetVersion: sql`greatest(${herokuLinks.appliedVersion}, ${options.to})`, updatedAt: sql`now()` })
    .where(
      and(
        eq(herokuLinks.id, options.linkId),
        eq(herokuLinks.appId, options.appId),
        eq(herokuLinks.targetVersion, options.from),
        lt(herokuLinks.appliedVersion, options.from),
      ),
    )
    .returning({ id: herokuLinks.id });
  return rows.length > 0;
}
