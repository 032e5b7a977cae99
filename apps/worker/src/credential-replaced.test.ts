// A worker that read an account's credential shortly before someone replaced it (a new API key or sign-in in the
// console) gets a 401 with the old one: it must use the new one, not mark the link `needs_reauth`.
import { createLogger, Keyring } from '@hds/core';
import { createHerokuSim, type HerokuSim, type SimServer } from '@hds/heroku-sim';
import { SyncService } from '@hds/sync';
import { createTestDatabase, testEncryptionKeys, testWebhookSigningKeys, type TestDatabase } from '@hds/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let database: TestDatabase;
let sim: HerokuSim;
let simServer: SimServer;

beforeAll(async () => {
  database = await createTestDatabase();
  sim = createHerokuSim();
  simServer = await sim.listen();
});
afterAll(async () => {
  await sim?.close();
  await database?.drop();
});

/** One process's SyncService (each has its own credential cache). */
const service = () =>
  new SyncService({
    db: database.client.db,
    keyring: Keyring.fromSpecs(testEncryptionKeys),
    logger: createLogger({ app: 'test', level: 'silent' }),
    heroku: { apiUrl: simServer.url, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 }, timeoutMs: 2000 },
    webhooks: { publicBaseUrl: 'http://127.0.0.1:3000', signingKeys: testWebhookSigningKeys },
  });

describe('a credential replaced while a worker holds the old one', () => {
  it('is used at the first 401, and the link stays active', async () => {
    const admin = service();
    const worker = service();
    const owner = sim.createAccount({ email: 'replaced@example.com' });
    const app = sim.createApp({ name: 'replaced-app', accountId: owner.id });
    const { account } = await admin.addAccount({ apiKey: owner.apiKey });
    const project = await admin.createProject({ name: 'replaced', heroku: { accountId: account.id, app: app.name } });
    const linkId = project.sync.linkId!;
    // The worker reads (and caches) the first key.
    expect(await worker.reconcileLink(linkId, 'manual', 'w1')).toMatchObject({ outcome: 'checked' });

    // The owner gets a new API key (the old one stops working) and gives it to the console.
    const { apiKey } = sim.revokeTokens({ accountId: owner.id, apiKey: true });
    await admin.addAccount({ apiKey: apiKey! });

    expect(await worker.reconcileLink(linkId, 'manual', 'w1')).toMatchObject({ outcome: 'checked' });
    expect(await admin.getSyncStatus(project.id)).toMatchObject({ state: 'active', lastError: null });
  });
});
