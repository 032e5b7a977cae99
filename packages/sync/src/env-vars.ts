import { redactValue, type Keyring } from '@hds/core';
import { projectEnvVars, type DbOrTx, type EnvVarSource } from '@hds/db';
import { asc, eq } from 'drizzle-orm';
import type { AuditActor } from './audit.js';
import { envVarContext } from './env-var-context.js';
import { putEnvVar } from './release-path/index.js';

export { envVarContext };

export interface EnvVarView {
  name: string;
  value: string;
  /** The keyed fingerprint: shows that a value changed when its masked form did not (a new password). */
  fingerprint: string | null;
  source: EnvVarSource;
  updatedAt: string;
}

/** A project's env vars; values redacted unless `reveal`. */
export async function listEnvVars(
  db: DbOrTx,
  keyring: Keyring,
  options: { projectId: string; reveal: boolean },
): Promise<EnvVarView[]> {
  const rows = await db
    .select()
    .from(projectEnvVars)
    .where(eq(projectEnvVars.projectId, options.projectId))
    .orderBy(asc(projectEnvVars.name));
  return rows.map((row) => {
    const value = options.reveal
      ? keyring.decrypt(row.valueEncrypted, envVarContext(options.projectId, row.name))
      : (row.valueRedacted ??
        redactValue(keyring.decrypt(row.valueEncrypted, envVarContext(options.projectId, row.name))));
    return {
      name: row.name,
      value,
      fingerprint: row.valueFingerprint,
      source: row.source,
      updatedAt: row.updatedAt.toISOString(),
    };
  });
}

/** Sets one env var by hand, with its audit row, in one transaction. Unchanged values write nothing. */
export async function setEnvVar(
  db: DbOrTx,
  keyring: Keyring,
  options: { projectId: string; name: string; value: string; actor: AuditActor },
): Promise<{ changed: boolean }> {
  const changed = await putEnvVar(db, keyring, { ...options, source: 'manual', action: 'env_set' });
  return { changed };
}
