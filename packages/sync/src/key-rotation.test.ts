import { randomBytes } from 'node:crypto';
import { Keyring } from '@hds/core';
import { deliveries, destinations, herokuAccounts, projectEnvVars } from '@hds/db';
import { createTestDatabase, testEncryptionKeys, type TestDatabase } from '@hds/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { tokenContext } from './accounts.js';
import { envVarContext } from './env-var-context.js';
import { seedLink, testService } from './test-support/fixtures.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

describe('reencryptCredentials', () => {
  it('moves every credential to the new primary key, after which the old key can go', async () => {
    const [newKey, oldKey] = testEncryptionKeys as [string, string];
    const before = testService(database.client.db, { keyring: Keyring.fromSpecs([oldKey]) });
    const { projectId, accountId } = await seedLink(before, { apiKey: 'api-key-under-old-key' });
    // A destination (its secret under the old key) gets a delivery of the var's value when it is written.
    const oldOnly = Keyring.fromSpecs([oldKey]);
    const [destination] = await database.client.db
      .insert(destinations)
      .values({ projectId, kind: 'webhook', config: { url: 'https://hooks.example.com/' } })
      .returning();
    const destinationContext = `destination:${destination!.id}`;
    await database.client.db
      .update(destinations)
      .set({ secretsEncrypted: oldOnly.encrypt('{"secret":"whsec_x"}', destinationContext) })
      .where(eq(destinations.id, destination!.id));
    await before.setEnvVar(projectId, 'DATABASE_URL', 'postgres://u:old-key-secret@h/d');

    const rotated = testService(database.client.db, { keyring: Keyring.fromSpecs([newKey, oldKey]) });
    // Before re-encryption the stored fingerprint is under the old key: the value is compared by decrypting.
    expect(await rotated.setEnvVar(projectId, 'DATABASE_URL', 'postgres://u:old-key-secret@h/d')).toEqual({
      changed: false,
    });
    expect(await rotated.reencryptCredentials()).toEqual({
      envVars: 1,
      accounts: 1,
      destinations: 1,
      deliveries: 1,
      migrations: 0,
    });
    expect(await rotated.reencryptCredentials()).toEqual({
      envVars: 0,
      accounts: 0,
      destinations: 0,
      deliveries: 0,
      migrations: 0,
    });

    const onlyNew = Keyring.fromSpecs([newKey]);
    const [destinationRow] = await database.client.db
      .select()
      .from(destinations)
      .where(eq(destinations.id, destination!.id));
    expect(onlyNew.decrypt(destinationRow!.secretsEncrypted!, destinationContext)).toBe('{"secret":"whsec_x"}');
    const [delivery] = await database.client.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.destinationId, destination!.id));
    expect(onlyNew.decrypt(delivery!.valueEncrypted!, envVarContext(projectId, 'DATABASE_URL'))).toBe(
      'postgres://u:old-key-secret@h/d',
    );
    const [envRow] = await database.client.db
      .select()
      .from(projectEnvVars)
      .where(eq(projectEnvVars.projectId, projectId));
    expect(onlyNew.decrypt(envRow!.valueEncrypted, envVarContext(projectId, 'DATABASE_URL'))).toBe(
      'postgres://u:old-key-secret@h/d',
    );
    expect(envRow!.valueFingerprint).toBe(onlyNew.fingerprint('postgres://u:old-key-secret@h/d'));
    const [account] = await database.client.db.select().from(herokuAccounts).where(eq(herokuAccounts.id, accountId));
    expect(onlyNew.decrypt(account!.accessTokenEncrypted, tokenContext(accountId, 'access'))).toBe(
      'api-key-under-old-key',
    );

    // Setting the same value again after rotation is recognised as unchanged (no audit row).
    const after = testService(database.client.db, { keyring: onlyNew });
    expect(await after.setEnvVar(projectId, 'DATABASE_URL', 'postgres://u:old-key-secret@h/d')).toEqual({
      changed: false,
    });
  });

  it('compares key ids exactly: `_` in the new key id is no wildcard (issue 17, defect 5)', async () => {
    const spec = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
    const [newKey, oldKey] = [spec('k_1'), spec('kx1')];
    // Its own database: re-encryption reads every row, and the other test's are under other keys.
    const own = await createTestDatabase();
    onTestFinished(() => own.drop());
    const before = testService(own.client.db, { keyring: Keyring.fromSpecs([oldKey]) });
    const { projectId, accountId } = await seedLink(before, { apiKey: 'api-key-under-kx1' });
    await before.setEnvVar(projectId, 'DATABASE_URL', 'postgres://u:under-kx1@h/d');

    const rotated = testService(own.client.db, { keyring: Keyring.fromSpecs([newKey, oldKey]) });
    expect(await rotated.reencryptCredentials()).toEqual({
      envVars: 1,
      accounts: 1,
      destinations: 0,
      deliveries: 0,
      migrations: 0,
    });

    // The old key can go now.
    const onlyNew = testService(own.client.db, { keyring: Keyring.fromSpecs([newKey]) });
    expect(await onlyNew.listEnvVars(projectId, true)).toMatchObject([{ value: 'postgres://u:under-kx1@h/d' }]);
    const [account] = await own.client.db.select().from(herokuAccounts).where(eq(herokuAccounts.id, accountId));
    expect(onlyNew.ctx.keyring.decrypt(account!.accessTokenEncrypted, tokenContext(accountId, 'access'))).toBe(
      'api-key-under-kx1',
    );
  });
});
