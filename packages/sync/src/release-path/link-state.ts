import { herokuLinks, type DbOrTx, type LinkState } from '@hds/db';
import { and, eq, sql } from 'drizzle-orm';
import type { AuditActor } from '../audit.js';

/**
 * The states a full reconcile (newest release applied, webhook present) heals to `active`. Not
 * `config_var_missing`: the applied release still lacks the var, and only a commit of one that has it heals it.
 */
export const HEALED_BY_RECONCILE: readonly LinkState[] = ['needs_reauth', 'app_missing', 'webhook_missing', 'error'];

/**
 * Moves an enabled link to `state` with `lastError` (`hds_set_link_state`), writing an audit row when the state
 * changes, so that a sync never breaks silently. A no-op when the link is disabled, moved off `appId` (when
 * given), not in one of `from` (when given), or already there with the same error. Returns whether the state
 * changed.
 */
export async function setLinkState(
  db: DbOrTx,
  options: {
    linkId: string;
    /** The app the work that decided this was for: a link moved since is left alone. */
    appId?: string;
    state: LinkState;
    lastError: string | null;
    actor: AuditActor;
    detail?: Record<string, unknown>;
    /** Only from these states. */
    from?: readonly LinkState[];
  },
): Promise<boolean> {
  const from = options.from ? sql`string_to_array(${options.from.join(',')}, ',')` : sql`null`;
  const rows = await db.execute<{ changed: boolean }>(sql`
    select hds_set_link_state(${options.linkId}, ${options.appId ?? null}, ${options.state}, ${options.lastError},
      ${options.actor}, ${JSON.stringify(options.detail ?? {})}::jsonb, null, ${from}) as changed`);
  return rows[0]?.changed === true;
}

/** Shows why a fetch is being retried, without changing the state (for the link's app only). */
export async function noteRetryError(
  db: DbOrTx,
  options: { linkId: string; appId: string; lastError: string },
): Promise<void> {
  await db
    .update(herokuLinks)
    .set({ lastError: options.lastError })
    .where(and(eq(herokuLinks.id, options.linkId), eq(herokuLinks.appId, options.appId)));
}
