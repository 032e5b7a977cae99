import { redactValue, type Keyring } from '@hds/core';
import { projectEnvVars, type DbOrTx, type EnvVarSource } from '@hds/db';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { appendAudit, type AuditActor } from './audit.js';

/** Ciphertexts are bound to their row: a value moved to another project or name does not decrypt. */
export const envVarContext = (projectId: string, name: string) => `env:${projectId}:${name}`;

export interface EnvVarView {
  name: string;
  value: string;
  /** The keyed fingerprint: shows that a value changed when its masked form did not (a new password). */
  fingerprint: string | null;
  source: EnvVarSource;
  updatedAt: string;
}

export interface StoredEnvVar {
  name: string;
  valueEncrypted: string;
  valueFingerprint: string | null;
  valueRedacted: string | null;
  source: EnvVarSource;
}

/** The encrypted, fingerprinted and redacted forms of a value, ready to store. */
export function sealEnvValue(keyring: Keyring, projectId: string, name: string, value: string) {
  return {
    valueEncrypted: keyring.encrypt(value, envVarContext(projectId, name)),
    valueFingerprint: keyring.fingerprint(value),
    valueRedacted: redactValue(value),
  };
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

/** The stored rows for `names`, locked for the rest of the transaction. */
export async function lockEnvVars(
  db: DbOrTx,
  options: { projectId: string; names: string[] },
): Promise<Map<string, StoredEnvVar>> {
  if (options.names.length === 0) return new Map();
  const rows = await db
    .select({
      name: projectEnvVars.name,
      valueEncrypted: projectEnvVars.valueEncrypted,
      valueFingerprint: projectEnvVars.valueFingerprint,
      valueRedacted: projectEnvVars.valueRedacted,
      source: projectEnvVars.source,
    })
    .from(projectEnvVars)
    .where(and(eq(projectEnvVars.projectId, options.projectId), inArray(projectEnvVars.name, options.names)))
    .for('update');
  return new Map(rows.map((row) => [row.name, row]));
}

/**
 * Whether `value` differs from what is stored. Fingerprints decide, except when the stored one was made
 * under another key (after key rotation): then the stored value is decrypted and compared.
 */
export function differsFromStored(
  keyring: Keyring,
  projectId: string,
  stored: StoredEnvVar | undefined,
  value: string,
): boolean {
  if (!stored) return true;
  if (stored.valueFingerprint === keyring.fingerprint(value)) return false;
  return keyring.decrypt(stored.valueEncrypted, envVarContext(projectId, stored.name)) !== value;
}

/** Sets one env var by hand, with its audit row, in one transaction. Unchanged values write nothing. */
export async function setEnvVar(
  db: DbOrTx,
  keyring: Keyring,
  options: { projectId: string; name: string; value: string; actor: AuditActor },
): Promise<{ changed: boolean }> {
  return db.transaction(async (tx) => {
    const stored = (await lockEnvVars(tx, { projectId: options.projectId, names: [options.name] })).get(options.name);
    if (!differsFromStored(keyring, options.projectId, stored, options.value)) return { changed: false };
    const sealed = sealEnvValue(keyring, options.projectId, options.name, options.value);
    await tx
      .insert(projectEnvVars)
      .values({ projectId: options.projectId, name: options.name, source: 'manual', ...sealed })
      .onConflictDoUpdate({
        target: [projectEnvVars.projectId, projectEnvVars.name],
        set: { ...sealed, source: 'manual', updatedAt: new Date() },
      });
    await appendAudit(tx, {
      projectId: options.projectId,
      action: 'env_set',
      actor: options.actor,
      varName: options.name,
      beforeRedacted: stored?.valueRedacted ?? null,
      afterRedacted: sealed.valueRedacted,
      beforeFingerprint: stored?.valueFingerprint ?? null,
      afterFingerprint: sealed.valueFingerprint,
    });
    return { changed: true };
  });
}
