// `heroku_links.webhook_key_hash` names the signing key a link's webhook secret was derived from, so the reconciler
// can move webhooks after a rotation of WEBHOOK_SIGNING_KEYS. It was an unsalted SHA-256 of the key: a database dump
// let anyone test guesses of the key offline. It is now keyed with a key derived from ENCRYPTION_KEYS (#17, defect 10).
import { createHash, randomBytes } from 'node:crypto';
import { createLogger, Keyring } from '@hds/core';
import { auditLog, herokuLinks } from '@hds/db';
import { deriveWebhookSecret } from '@hds/heroku';
import { createHerokuSim, type HerokuSim, type SimAccount, type SimServer } from '@hds/heroku-sim';
import { SyncService } from '@hds/sync';
import { testEncryptionKeys, testWebhookSigningKeys } from '@hds/testkit';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdmin, type AdminHarness } from '../test-support/harness.js';

let sim: HerokuSim;
let simServer: SimServer;
let admin: AdminHarness;
let owner: SimAccount;
let accountId: string;

beforeAll(async () => {
  sim = createHerokuSim();
  simServer = await sim.listen();
  admin = await startAdmin({ herokuApiUrl: simServer.url });
  owner = sim.createAccount({ email: 'owner@example.com' });
  accountId = (await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: owner.apiKey } })).json.id;
});
afterAll(async () => {
  await admin.close();
  await sim.close();
});

const [signingKey] = testWebhookSigningKeys as [string];
const unsaltedHash = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 12);
const newEncryptionKey = `new:${randomBytes(32).toString('base64')}`;
const newSigningKey = randomBytes(32).toString('base64');

/** The admin's SyncService with other keys, sharing its database: another deploy, or the same after a rotation. */
const serviceWith = (keys: { encryption?: string[]; signing?: string[] }) =>
  new SyncService({
    db: admin.database.client.db,
    keyring: Keyring.fromSpecs(keys.encryption ?? testEncryptionKeys),
    logger: createLogger({ app: 'test', level: 'silent' }),
    heroku: { apiUrl: simServer.url, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 }, timeoutMs: 2000 },
    webhooks: { publicBaseUrl: 'http://127.0.0.1:3000', signingKeys: keys.signing ?? testWebhookSigningKeys },
  });
/** ENCRYPTION_KEYS rotated: a new first key, the old ones still listed (they decrypt the stored tokens). */
const rotatedEncryption = () => serviceWith({ encryption: [newEncryptionKey, ...testEncryptionKeys] });

let appCounter = 0;
/** A project synced with a new sim app by `service`; the webhook is created and its key hash stored. */
async function enabledLink(service: SyncService = admin.sync) {
  const app = sim.createApp({ name: `keyhash-${process.pid}-${(appCounter += 1)}`, accountId: owner.id });
  const project = await service.createProject({ name: 'key hash' });
  const status = await service.enableSync({ projectId: project.id, accountId, app: app.name });
  return { app, projectId: project.id, linkId: status.linkId! };
}

const storedHash = async (linkId: string) =>
  (await admin.database.client.db.select().from(herokuLinks).where(eq(herokuLinks.id, linkId)))[0]!.webhookKeyHash;
const webhookUpdates = (app: { id: string }) =>
  sim.requests({ method: 'PATCH', path: `/apps/${app.id}/webhooks/` }).length;
const rotationRows = async (projectId: string) =>
  (
    await admin.database.client.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.projectId, projectId), eq(auditLog.action, 'webhook_secret_rotated')))
  ).length;

describe('webhook_key_hash', () => {
  it("is keyed: it is not the signing key's plain hash, and the same key gives another hash under other keys", async () => {
    const here = await enabledLink();
    const elsewhere = await enabledLink(serviceWith({ encryption: [newEncryptionKey, ...testEncryptionKeys] }));
    const [hashHere, hashElsewhere] = [await storedHash(here.linkId), await storedHash(elsewhere.linkId)];
    expect(hashHere).toMatch(/\S{12}/);
    expect(hashElsewhere).toMatch(/\S{12}/);
    // Same signing key, same webhook secret scheme: only a key outside the database tells the two apart.
    expect(hashElsewhere).not.toBe(hashHere);
    for (const hash of [hashHere, hashElsewhere]) expect(hash).not.toContain(unsaltedHash(signingKey));
  });

  it('keeps links made before: an unsalted hash of the current key is taken as current and re-recorded keyed', async () => {
    const { app, projectId, linkId } = await enabledLink();
    const keyed = await storedHash(linkId);
    await admin.database.client.db
      .update(herokuLinks)
      .set({ webhookKeyHash: unsaltedHash(signingKey) })
      .where(eq(herokuLinks.id, linkId));
    const updatesBefore = webhookUpdates(app);
    expect(await admin.sync.reconcileLink(linkId, 'manual', 'test')).toMatchObject({ webhook: 'present' });
    expect(webhookUpdates(app)).toBe(updatesBefore);
    expect(await rotationRows(projectId)).toBe(0);
    expect(await storedHash(linkId)).toBe(keyed);
  });

  it('survives a rotation of ENCRYPTION_KEYS without touching the webhook', async () => {
    const { app, projectId, linkId } = await enabledLink();
    const before = await storedHash(linkId);
    const updatesBefore = webhookUpdates(app);
    expect(await rotatedEncryption().reconcileLink(linkId, 'manual', 'test')).toMatchObject({ webhook: 'present' });
    expect(webhookUpdates(app)).toBe(updatesBefore);
    expect(await rotationRows(projectId)).toBe(0);
    const after = await storedHash(linkId);
    expect(after).not.toBe(before);
    // Re-recorded under the new key: the next check is a plain match.
    expect(await rotatedEncryption().reconcileLink(linkId, 'manual', 'test')).toMatchObject({ webhook: 'present' });
    expect(await storedHash(linkId)).toBe(after);
  });

  it('still moves a webhook to a new signing key', async () => {
    const { app, projectId, linkId } = await enabledLink();
    const updatesBefore = webhookUpdates(app);
    const rotated = serviceWith({ signing: [newSigningKey, ...testWebhookSigningKeys] });
    expect(await rotated.reconcileLink(linkId, 'manual', 'test')).toMatchObject({ webhook: 'rotated' });
    expect(webhookUpdates(app)).toBe(updatesBefore + 1);
    expect(await rotationRows(projectId)).toBe(1);
    expect(sim.webhooks({ app: app.name })[0]?.secret).toBe(deriveWebhookSecret(newSigningKey, linkId));
  });
});
