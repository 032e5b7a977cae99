import type { SyncMapping } from '@hds/db';
import { herokuLinks } from '@hds/db';
import { eq } from 'drizzle-orm';
import type { AuditActor } from '../audit.js';
import type { SyncContext } from '../context.js';
import { mapConfig } from '../mappings.js';
import { sealForPut } from './env-var-write.js';

export interface CommitResult {
  /** `other_app`: the link was disabled, deleted or moved to another app since the fetch; nothing was written. */
  status: 'committed' | 'stale' | 'other_app';
  committed: boolean;
  changedVars: number;
  /** The link's target after the commit (a newer release may be owed); 0 when the link moved or went away. */
  targetVersion: number;
}

interface CommitAnswer {
  status: 'committed' | 'stale' | 'other_app' | 'mappings_changed';
  changed_vars: number;
  target_version: number;
}

/** Why the link is `config_var_missing`: which config vars the release lacks, and which env vars kept old values. */
function missingVarsError(options: { version: number; mappings: SyncMapping[]; missing: string[] }): string | null {
  const { missing } = options;
  if (missing.length === 0) return null;
  const kept = options.mappings.filter((m) => missing.includes(m.from)).map((m) => m.to);
  const verb = kept.length === 1 ? 'keeps its previous value' : 'keep their previous values';
  return `release v${options.version} has no ${missing.join(', ')}: ${kept.join(', ')} ${verb}, which may no longer work`;
}

/**
 * Commits release `version` of app `appId`, its values computed here with the link's mappings, in one round trip
 * to `hds_commit_release`: under the link's row lock, the changed env vars (encrypted), one audit row per changed
 * var, the link's applied version, state and sync time, the triggering event's outcome and a `pg_notify`. The
 * version guard makes this safe under duplicates, reordering and concurrent workers; a link that moved to
 * another app since the fetch is left alone.
 */
export async function commitRelease(
  ctx: SyncContext,
  options: {
    linkId: string;
    /** The app the config was fetched from. */
    appId: string;
    owner: string;
    version: number;
    config: Readonly<Record<string, string>>;
    actor: AuditActor;
    /** The event whose processing runs the fetch: the commit records its outcome. */
    eventId?: string;
    /** The link's project (env var ciphertexts are bound to it) and mappings as last read; changed mappings are read again. */
    projectId: string;
    mappings: SyncMapping[];
  },
): Promise<CommitResult> {
  const pg = ctx.db.$client;
  let mappings = options.mappings;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const { values, missing } = mapConfig({ mappings, config: options.config });
    const sealed = [...values].map(([name, value]) => sealForPut(ctx.keyring, options.projectId, name, value));
    const missingError = missingVarsError({ version: options.version, mappings, missing });
    // JSON goes as text: drizzle's postgres.js client passes json parameters through unserialised.
    const [answer] = await pg<CommitAnswer[]>`
      select status, changed_vars, target_version from hds_commit_release(${options.linkId}, ${options.appId},
        ${options.owner}, ${options.version}, ${JSON.stringify(mappings)}::jsonb, ${JSON.stringify(sealed)}::jsonb,
        ${missingError}, ${options.actor}, ${options.eventId ?? null})`;
    if (!answer) throw new Error('hds_commit_release returned nothing');
    if (answer.status === 'mappings_changed') {
      const [row] = await ctx.db
        .select({ mappings: herokuLinks.mappings })
        .from(herokuLinks)
        .where(eq(herokuLinks.id, options.linkId));
      if (!row) return { status: 'other_app', committed: false, changedVars: 0, targetVersion: 0 };
      mappings = row.mappings;
      continue;
    }
    return {
      status: answer.status,
      committed: answer.status === 'committed',
      changedVars: answer.changed_vars,
      targetVersion: answer.target_version,
    };
  }
  throw new Error("the link's mappings kept changing during the commit");
}
