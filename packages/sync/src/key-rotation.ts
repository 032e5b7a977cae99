import {
  dataMigrations,
  dataMigrationTargetContext,
  deliveries,
  destinations,
  herokuAccounts,
  projectEnvVars,
} from '@hds/db';
import { and, eq, or, sql, type SQL, type AnyColumn } from 'drizzle-orm';
import { tokenContext } from './accounts.js';
import type { SyncContext } from './context.js';

import { envVarContext } from './env-var-context.js';

type RotationDeps = Pick<SyncContext, 'db' | 'keyring' | 'logger'>;

/**
 * A ciphertext (`v1:<kid>:…`) not under key `keyId`, comparing the key id exactly (a LIKE pattern would read `_`
 * in a key id as a wildcard and skip rows under another key).
 */
const notUnderKey = (column: AnyColumn, keyId: string): SQL =>
  sql`(${column} is not null and split_part(${column}, ':', 2) <> ${keyId})`;

/**
 * Re-encrypts every stored credential that is not under the primary key of `ENCRYPTION_KEYS` (after a new key
 * was prepended), row by row with a row lock, and refreshes fingerprints. Afterwards the old key can be removed.
 * Idempotent; returns how many rows were rewritten.
 */
export async function reencryptCredentials(
  ctx: RotationDeps,
): Promise<{ envVars: number; accounts: number; destinations: number; deliveries: number; migrations: number }> {
  const { keyring } = ctx;
  const primary = keyring.primaryKeyId;
  let envVars = 0;
  const staleVars = await ctx.db
    .select({ projectId: projectEnvVars.projectId, name: projectEnvVars.name })
    .from(projectEnvVars)
    .where(notUnderKey(projectEnvVars.valueEncrypted, primary));
  for (const { projectId, name } of staleVars) {
    await ctx.db.transaction(async (tx) => {
      const where = and(eq(projectEnvVars.projectId, projectId), eq(projectEnvVars.name, name));
      const [row] = await tx.select().from(projectEnvVars).where(where).for('update');
      if (!row || !keyring.needsRotation(row.valueEncrypted)) return;
      const value = keyring.decrypt(row.valueEncrypted, envVarContext(projectId, name));
      await tx
        .update(projectEnvVars)
        .set({
          valueEncrypted: keyring.encrypt(value, envVarContext(projectId, name)),
          valueFingerprint: keyring.fingerprint(value),
        })
        .where(where);
      envVars += 1;
    });
  }
  let accounts = 0;
  const staleAccounts = await ctx.db
    .select({ id: herokuAccounts.id })
    .from(herokuAccounts)
    .where(
      or(
        notUnderKey(herokuAccounts.accessTokenEncrypted, primary),
        notUnderKey(herokuAccounts.refreshTokenEncrypted, primary),
      ),
    );
  for (const { id } of staleAccounts) {
    await ctx.db.transaction(async (tx) => {
      const [row] = await tx.select().from(herokuAccounts).where(eq(herokuAccounts.id, id)).for('update');
      if (!row) return;
      const reseal = (ciphertext: string, which: 'access' | 'refresh') => {
        const context = tokenContext(id, which);
        return keyring.needsRotation(ciphertext)
          ? keyring.encrypt(keyring.decrypt(ciphertext, context), context)
          : ciphertext;
      };
      await tx
        .update(herokuAccounts)
        .set({
          accessTokenEncrypted: reseal(row.accessTokenEncrypted, 'access'),
          refreshTokenEncrypted:
            row.refreshTokenEncrypted === null ? null : reseal(row.refreshTokenEncrypted, 'refresh'),
        })
        .where(eq(herokuAccounts.id, id));
      accounts += 1;
    });
  }
  const destinationCount = await reencryptDestinations(ctx);
  const deliveryCount = await reencryptDeliveries(ctx);
  const migrations = await reencryptMigrationTargets(ctx);
  ctx.logger.info(
    {
      envVars,
      accounts,
      destinations: destinationCount,
      deliveries: deliveryCount,
      migrations,
      keyId: keyring.primaryKeyId,
    },
    're-encrypted credentials under the primary key',
  );
  return { envVars, accounts, destinations: destinationCount, deliveries: deliveryCount, migrations };
}

/** Data migrations' target URLs (packages/migrate-data), bound to their migration. */
async function reencryptMigrationTargets({ db, keyring }: RotationDeps): Promise<number> {
  let count = 0;
  const stale = await db
    .select({ id: dataMigrations.id })
    .from(dataMigrations)
    .where(notUnderKey(dataMigrations.targetUrlEncrypted, keyring.primaryKeyId));
  for (const { id } of stale) {
    await db.transaction(async (tx) => {
      const [row] = await tx.select().from(dataMigrations).where(eq(dataMigrations.id, id)).for('update');
      if (!row || !keyring.needsRotation(row.targetUrlEncrypted)) return;
      const context = dataMigrationTargetContext(id);
      const targetUrlEncrypted = keyring.encrypt(keyring.decrypt(row.targetUrlEncrypted, context), context);
      await tx.update(dataMigrations).set({ targetUrlEncrypted }).where(eq(dataMigrations.id, id));
      count += 1;
    });
  }
  return count;
}

/** A destination's secrets (`destination:<id>`, the binding `@hds/destinations` seals them with). */
async function reencryptDestinations({ db, keyring }: RotationDeps): Promise<number> {
  let count = 0;
  const stale = await db
    .select({ id: destinations.id })
    .from(destinations)
    .where(notUnderKey(destinations.secretsEncrypted, keyring.primaryKeyId));
  for (const { id } of stale) {
    await db.transaction(async (tx) => {
      const [row] = await tx.select().from(destinations).where(eq(destinations.id, id)).for('update');
      if (!row?.secretsEncrypted || !keyring.needsRotation(row.secretsEncrypted)) return;
      const context = `destination:${id}`;
      const secretsEncrypted = keyring.encrypt(keyring.decrypt(row.secretsEncrypted, context), context);
      await tx.update(destinations).set({ secretsEncrypted }).where(eq(destinations.id, id));
      count += 1;
    });
  }
  return count;
}

/** The values deliveries carry (the env var's ciphertext and binding), so a retry or a redelivery still decrypts. */
async function reencryptDeliveries({ db, keyring }: RotationDeps): Promise<number> {
  let count = 0;
  const stale = await db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(notUnderKey(deliveries.valueEncrypted, keyring.primaryKeyId));
  for (const { id } of stale) {
    await db.transaction(async (tx) => {
      const [row] = await tx.select().from(deliveries).where(eq(deliveries.id, id)).for('update');
      if (!row?.valueEncrypted || row.varName === null || !keyring.needsRotation(row.valueEncrypted)) return;
      const context = envVarContext(row.projectId, row.varName);
      const valueEncrypted = keyring.encrypt(keyring.decrypt(row.valueEncrypted, context), context);
      await tx.update(deliveries).set({ valueEncrypted }).where(eq(deliveries.id, id));
      count += 1;
    });
  }
  return count;
}
