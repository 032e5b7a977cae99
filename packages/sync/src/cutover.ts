import type { Keyring } from '@hds/core';
import { herokuLinks, type SyncMapping, type Transaction } from '@hds/db';
import { eq, sql } from 'drizzle-orm';
import { appendAudit } from './audit.js';
import { SyncError } from './errors.js';
import { formatMappings, mapConfig } from './mappings.js';
import { putEnvVar } from './release-path/index.js';

/** The config var a data migration replaces: Heroku Postgres's URL. */
export const DATABASE_CONFIG_VAR = 'DATABASE_URL';

/** The `DATABASE_URL` mapping of a link's mappings, if it has one: the env var a cut-over writes. */
export function databaseMapping(mappings: readonly SyncMapping[]): SyncMapping | undefined {
  return mappings.find((m) => m.from === DATABASE_CONFIG_VAR);
}

/**
 * A data migration's cut-over, inside the caller's transaction: under the link's row lock, the env var the
 * `DATABASE_URL` mapping writes becomes the target URL (with the mapping's transforms; encrypted, audited as
 * `env_cutover`), and the mapping is removed, so releases stop writing it while every other mapping keeps
 * syncing. A release being committed meanwhile sees the mappings changed (`hds_commit_release` compares them)
 * and applies the new ones. Returns the env var's name.
 */
export async function cutOverDatabase(
  tx: Transaction,
  keyring: Keyring,
  options: { linkId: string; targetUrl: string; migrationId: string },
): Promise<{ varName: string }> {
  const [link] = await tx.select().from(herokuLinks).where(eq(herokuLinks.id, options.linkId)).for('update');
  if (!link) throw new SyncError('not_found', 'the sync of this project is gone');
  const mapping = databaseMapping(link.mappings);
  if (!mapping) throw new SyncError('conflict', `the sync has no ${DATABASE_CONFIG_VAR} mapping to cut over`);
  const value = mapConfig({ mappings: [mapping], config: { [DATABASE_CONFIG_VAR]: options.targetUrl } }).values.get(
    mapping.to,
  );
  if (value === undefined) throw new Error('the mapping gave no value');
  await putEnvVar(tx, keyring, {
    projectId: link.projectId,
    name: mapping.to,
    value,
    source: 'manual',
    action: 'env_cutover',
    actor: 'system',
  });
  const mappings = link.mappings.filter((m) => m !== mapping);
  await tx
    .update(herokuLinks)
    .set({ mappings, updatedAt: sql`now()` })
    .where(eq(herokuLinks.id, link.id));
  await appendAudit(tx, {
    projectId: link.projectId,
    linkId: link.id,
    action: 'mappings_changed',
    actor: 'system',
    detail: {
      reason: 'data migration cut-over',
      migrationId: options.migrationId,
      stopped: DATABASE_CONFIG_VAR,
      mappings: formatMappings(mappings),
    },
  });
  return { varName: mapping.to };
}
