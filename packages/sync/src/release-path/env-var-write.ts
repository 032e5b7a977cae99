import { redactValue, type Keyring } from '@hds/core';
import type { AuditAction, DbOrTx, EnvVarSource } from '@hds/db';
import { sql } from 'drizzle-orm';
import type { AuditActor } from '../audit.js';
import { envVarContext } from '../env-var-context.js';

/** A value ready for `hds_put_env_var`: encrypted, fingerprinted under every key, redacted. */
export interface SealedValue {
  name: string;
  enc: string;
  fp: string;
  red: string;
  fps: string[];
}

export function sealForPut(keyring: Keyring, projectId: string, name: string, value: string): SealedValue {
  return {
    name,
    enc: keyring.encrypt(value, envVarContext(projectId, name)),
    fp: keyring.fingerprint(value),
    red: redactValue(value),
    fps: keyring.fingerprintCandidates(value),
  };
}

export interface EnvVarWrite {
  projectId: string;
  name: string;
  value: string;
  source: EnvVarSource;
  action: Extract<AuditAction, 'env_set' | 'env_synced' | 'env_cutover'>;
  actor: AuditActor;
}

/**
 * Writes one env var unless its value is unchanged, with its audit row (`hds_put_env_var`, the writer a release's
 * commit uses too). Returns whether it wrote.
 */
export async function putEnvVar(db: DbOrTx, keyring: Keyring, write: EnvVarWrite): Promise<boolean> {
  const sealed = sealForPut(keyring, write.projectId, write.name, write.value);
  const rows = await db.execute<{ changed: boolean }>(sql`
    select hds_put_env_var(${write.projectId}, ${write.name}, ${sealed.enc}, ${sealed.fp}, ${sealed.red},
      array(select jsonb_array_elements_text(${JSON.stringify(sealed.fps)}::jsonb)), ${write.source}, ${write.action},
      ${write.actor}, null, null, null) as changed`);
  return rows[0]?.changed === true;
}
