// `heroku_links.webhook_key_hash` names the signing key a link's webhook secret was derived from, so the reconciler
// can move webhooks after a rotation of WEBHOOK_SIGNING_KEYS. It was an unsalted SHA-256 of the key: a database dump
// let anyone test guesses of the key offline. It is now keyed with a key derived from ENCRYPTION_KEYS (#17, defect 10).
import { createHash, randomBytes } from 'node:crypto';
import { createLogger, Keyring } from '@hds/core';
import { auditLog, herokuLinks } from '@hds/db';
import { deriveWebhookSecret } from '@hds/heroku';
import { SyncService } from '@hds/sync';
import { testEncryptionKeys, testWebhookSigningKeys } from '@hds/testkit';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminWithSim, type AdminWithSim } from '../test-support/with-sim.js';

let env: AdminWithSim;
beforeAll(async () => {
  env = await startAdminWithSim();
});
afterAll(() => env?.close());

const [signingKey] = testWebhookSigningKeys as [string];
const unsaltedHash = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 12);
const newEncryptionKey = `new:${randomBytes(32).toString('base64')}`;
const newSigningKey = randomBytes(32).toString('base64');

/** The env.admin's SyncService with other keys, sharing its database: another deploy, or the same after a rotation. */
const serviceWith = (keys: { encryption?: string[]; signing?: string[] }) =>
  new SyncService({
    db: env.admin.database.client.db,
    keyring: Keyring.fromSpecs(keys.encryption ?? testEncryptionKeys),
    logger: createLogger({ app: 'test', level: 'silent' }),
    heroku: { apiUrl: env.simServer.url, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 }, timeoutMs: 2000 },
    webhooks: { publicBaseUrl: 'http://127.0.0.1:3000', signingKeys: keys.signing ?? testWebhookSigningKeys },
  });
/** ENCRYPTION_KEYS rotated: a new first key, the old ones still listed (they decrypt the stored tokens). */
const rotatedEncryption = () => serviceWith({ encryption: [newEncryptionKey, ...testEncryptionKeys] });

let appCounter = 0;
/** A project synced with a new env.sim app by `service`; the webhook is created and its key hash stored. */
async function enabledLink(service: SyncService = env.admin.sync) {
  const app = env.sim.createApp({ name: `keyhash-${process.pid}-${(appCounter += 1)}`, accountId: env.owner.id });
  const project = await service.createProject({ name: 'key hash' });
  const status = await service.enableSync({ projectId: project.id, accountId: env.accountId, app: app.name });
  return { app, projectId: project.id, linkId: status.linkId! };
}

const storedHash = async (linkId: string) =>
  (await env.admin.database.client.db.select().from(herokuLinks).where(eq(herokuLinks.id, linkId)))[0]!.webhookKeyHash;
const webhookUpdates = (app: { id: string }) =>
  env.sim.requests({ method: 'PATCH', path: `/apps/${app.id}/webhooks/` }).length;
const rotationRows = async (projectId: string) =>
  (
    await env.admin.database.client.db
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
    await env.admin.database.client.db
      .update(herokuLinks)
      .set({ webhookKeyHash: unsaltedHash(signingKey) })
      .where(eq(herokuLinks.id, linkId));
    const updatesBefore = webhookUpdates(app);
    expect(await env.admin.sync.reconcileLink(linkId, 'manual', 'test')).toMatchObject({ webhook: 'present' });
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
    expect(env.sim.webhooks({ app: app.name })[0]?.secret).toBe(deriveWebhookSecret(newSigningKey, linkId));
  });
});
