import { herokuAccounts, herokuLinks } from '@hds/db';
import { createHerokuSim, type HerokuSim, type SimAccount, type SimServer } from '@hds/heroku-sim';
import { queueNames } from '@hds/queue';
import { webhookSecret } from '@hds/sync';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAdmin, type AdminHarness } from '../test-support/harness.js';

let sim: HerokuSim;
let simServer: SimServer;
let admin: AdminHarness;
let owner: SimAccount;
let accountId: string;

const missingId = '0b7cbb4e-4a87-4f55-9f4c-2a3f0e1c9d11';
let appCounter = 0;
const newApp = (account: SimAccount = owner) =>
  sim.createApp({ name: `app-${process.pid}-${(appCounter += 1)}`, accountId: account.id });

beforeAll(async () => {
  sim = createHerokuSim();
  simServer = await sim.listen();
  admin = await startAdmin({ herokuApiUrl: simServer.url });
  owner = sim.createAccount({ email: 'owner@example.com' });
  const added = await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: owner.apiKey } });
  accountId = added.json.id;
});
afterEach(() => sim.clearFaults());
afterAll(async () => {
  await admin.close();
  await sim.close();
});

const enable = (projectId: string, body: Record<string, unknown>) =>
  admin.api('PUT', `/api/projects/${projectId}/heroku-sync`, { body });
const reveal = async (projectId: string) =>
  (await admin.api('GET', `/api/projects/${projectId}/env?reveal=true`)).json.vars as { name: string; value: string }[];
/** The audit rows of changes (reveals, audited too, left out). */
const changeEntries = async (projectId: string, limit = 50) =>
  (
    (await admin.api('GET', `/api/projects/${projectId}/audit?limit=${limit}`)).json.entries as { action: string }[]
  ).filter((e) => e.action !== 'env_revealed');
const auditActions = async (projectId: string) => (await changeEntries(projectId)).map((e) => e.action);

describe('Heroku accounts', () => {
  it('stores an API key after checking it with GET /account, encrypted', async () => {
    const dev = sim.createAccount({ email: 'dev@example.com' });
    const res = await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: dev.apiKey } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ id: expect.any(String), email: 'dev@example.com', authType: 'api_key' });
    const [row] = await admin.database.client.db
      .select()
      .from(herokuAccounts)
      .where(eq(herokuAccounts.id, res.json.id as string));
    expect(row!.accessTokenEncrypted).not.toContain(dev.apiKey);
    expect(sim.requests({ path: '/account' }).length).toBeGreaterThan(0);

    const list = await admin.api('GET', '/api/heroku/accounts');
    expect(list.status).toBe(200);
    expect((list.json.accounts as { email: string }[]).map((a) => a.email)).toContain('dev@example.com');
    expect(JSON.stringify(list.json)).not.toContain(dev.apiKey);
    expect(JSON.stringify(list.json)).not.toMatch(/token/i);
  });

  it('refuses a key Heroku does not accept with 422, and bad bodies with 400', async () => {
    const refused = await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: 'not-a-heroku-key' } });
    expect(refused.status).toBe(422);
    expect(refused.json.error).toEqual({ code: 'invalid', message: 'Heroku did not accept this credential' });
    for (const body of [{}, { apiKey: '' }, { apiKey: 7 }, { apiKey: 'k', more: 1 }]) {
      expect((await admin.api('POST', '/api/heroku/accounts', { body })).status, JSON.stringify(body)).toBe(400);
    }
    expect((await admin.api('POST', '/api/heroku/accounts', { token: null, body: {} })).status).toBe(401);
  });

  it('answers 503 when Heroku does not answer', async () => {
    sim.setFaults({ api: { errors: { rate: 1, status: 503 } } });
    const res = await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: owner.apiKey } });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('heroku_unavailable');
  });

  it("lists every page of an account's apps", async () => {
    const many = sim.createAccount({ email: 'many@example.com' });
    const names = Array.from({ length: 1003 }, (_, i) => `many-${String(i).padStart(4, '0')}`);
    for (const name of names) sim.createApp({ name, accountId: many.id });
    const { json: account } = await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: many.apiKey } });
    sim.clearRequests();
    const res = await admin.api('GET', `/api/heroku/accounts/${account.id}/apps`);
    expect(res.status).toBe(200);
    const apps = res.json.apps as { id: string; name: string }[];
    expect(apps.map((a) => a.name)).toEqual(names);
    expect(Object.keys(apps[0]!).sort()).toEqual(['id', 'name']);
    expect(sim.requests({ path: '/apps' }).length).toBe(2);
  });

  it('answers 404 for an unknown account, 400 for a malformed id, 503 when Heroku fails', async () => {
    expect((await admin.api('GET', `/api/heroku/accounts/${missingId}/apps`)).status).toBe(404);
    const bad = await admin.api('GET', '/api/heroku/accounts/nope/apps');
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe('invalid path: accountId: must be a UUID');
    sim.setFaults({ api: { errors: { rate: 1, status: 500 } } });
    const down = await admin.api('GET', `/api/heroku/accounts/${accountId}/apps`);
    expect(down.status).toBe(503);
    expect(down.json.error.code).toBe('heroku_unavailable');
  });
});

describe('the sync', () => {
  it('enables: creates the webhook, applies the current config before answering; twice is idempotent', async () => {
    const app = newApp();
    const project = await admin.createProject({ name: 'enable' });
    const res = await enable(project.id, { accountId, app: app.name });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      enabled: true,
      app: { id: app.id, name: app.name },
      mappings: { DATABASE_URL: 'HASURA_GRAPHQL_DATABASE_URL' },
      state: 'active',
      lastReleaseVersion: 1,
      lastSyncedAt: expect.any(String),
      lastError: null,
    });
    expect(await reveal(project.id)).toEqual([
      expect.objectContaining({ name: 'HASURA_GRAPHQL_DATABASE_URL', value: app.databaseUrl }),
    ]);

    const linkId = res.json.linkId as string;
    const webhooks = sim.webhooks({ app: app.name });
    expect(webhooks).toHaveLength(1);
    expect(webhooks[0]).toMatchObject({
      include: ['api:release'],
      level: 'sync',
      url: `http://127.0.0.1:3000/webhooks/heroku/${linkId}`,
      secret: webhookSecret(admin.sync.ctx, linkId),
    });

    const again = await enable(project.id, { accountId, app: app.name });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ enabled: true, linkId, state: 'active' });
    expect(sim.webhooks({ app: app.name })).toHaveLength(1);

    const status = await admin.api('GET', `/api/projects/${project.id}/heroku-sync`);
    expect(status.json).toMatchObject({ enabled: true, state: 'active', lastReleaseVersion: 1 });
    expect(await auditActions(project.id)).toEqual(['env_synced', 'webhook_created', 'sync_enabled']);
    const entries: Array<{ action: string; after?: string }> = await changeEntries(project.id);
    const synced = entries.find((e) => e.action === 'env_synced');
    expect(synced).toMatchObject({ varName: 'HASURA_GRAPHQL_DATABASE_URL', releaseVersion: 1, actor: 'admin' });
    expect(synced?.after).toContain(':****@');
  });

  it('takes mappings, and refuses bad ones with 400', async () => {
    const app = newApp();
    const project = await admin.createProject({ name: 'mappings' });
    const res = await enable(project.id, {
      accountId,
      app: app.name,
      mappings: { DATABASE_URL: { to: 'PG_URL', transforms: ['postgresql-scheme'] } },
    });
    expect(res.status).toBe(200);
    expect((await reveal(project.id))[0]).toEqual(
      expect.objectContaining({ name: 'PG_URL', value: app.databaseUrl.replace(/^postgres:/, 'postgresql:') }),
    );
    for (const mappings of [{}, { DATABASE_URL: 'bad name' }, { A: 'X', B: 'X' }, 'DATABASE_URL', null]) {
      const bad = await enable(project.id, { accountId, app: app.name, mappings });
      expect(bad.status, JSON.stringify(mappings)).toBe(400);
      expect(bad.json.error.message).toMatch(/^invalid body: mappings/);
    }
  });

  it('refuses an app the account cannot see with 422, changing nothing', async () => {
    const stranger = sim.createAccount({ email: 'stranger@example.com' });
    const theirs = newApp(stranger);
    const project = await admin.createProject({ name: 'not-visible' });
    const res = await enable(project.id, { accountId, app: theirs.name });
    expect(res.status).toBe(422);
    expect(res.json.error).toEqual({
      code: 'app_not_visible',
      message: `the Heroku account cannot see an app called "${theirs.name}"`,
    });
    expect((await admin.api('GET', `/api/projects/${project.id}/heroku-sync`)).json).toMatchObject({
      enabled: false,
      state: 'disabled',
    });
    expect(sim.webhooks({ app: theirs.name })).toHaveLength(0);
    expect(await auditActions(project.id)).toEqual([]);
  });

  it('refuses bad input with 400 and unknown projects or accounts with 404', async () => {
    const project = await admin.createProject({ name: 'bad-sync' });
    for (const body of [
      {},
      { accountId },
      { accountId: 'x', app: 'a' },
      { accountId, app: '' },
      { accountId, app: 'a', x: 1 },
    ]) {
      expect((await enable(project.id, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await enable(missingId, { accountId, app: 'a' })).status).toBe(404);
    expect((await enable(project.id, { accountId: missingId, app: 'a' })).status).toBe(404);
    expect((await admin.api('GET', `/api/projects/${missingId}/heroku-sync`)).status).toBe(404);
    expect((await admin.api('GET', '/api/projects/x/heroku-sync')).status).toBe(400);
    expect((await admin.api('DELETE', `/api/projects/${missingId}/heroku-sync`)).status).toBe(404);
    expect((await admin.api('POST', `/api/projects/${missingId}/heroku-sync/reconcile`)).status).toBe(404);
  });

  it('answers 503 when Heroku does not answer at enable, with nothing enabled', async () => {
    const app = newApp();
    const project = await admin.createProject({ name: 'heroku-down' });
    sim.setFaults({ api: { errors: { rate: 1, status: 503 } } });
    const res = await enable(project.id, { accountId, app: app.name });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('heroku_unavailable');
    sim.clearFaults();
    expect((await admin.api('GET', `/api/projects/${project.id}/heroku-sync`)).json.enabled).toBe(false);
  });

  it('is enabled at once for a project created with a Heroku app', async () => {
    const app = newApp();
    const res = await admin.api('POST', '/api/projects', {
      body: { name: 'born-synced', env: { OTHER: 'x' }, heroku: { accountId, app: app.id } },
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      name: 'born-synced',
      sync: { enabled: true, state: 'active', app: { name: app.name }, lastReleaseVersion: 1 },
    });
    expect((await reveal(res.json.id as string)).find((v) => v.name === 'HASURA_GRAPHQL_DATABASE_URL')?.value).toBe(
      app.databaseUrl,
    );
    expect(sim.webhooks({ app: app.name })).toHaveLength(1);
  });

  it('refuses creating a project with an app the account cannot see, creating nothing', async () => {
    const stranger = sim.createAccount({ email: 'stranger2@example.com' });
    const theirs = newApp(stranger);
    const before: number = (await admin.api('GET', '/api/projects')).json.projects.length;
    const res = await admin.api('POST', '/api/projects', {
      body: { name: 'never', heroku: { accountId, app: theirs.name } },
    });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('app_not_visible');
    expect((await admin.api('GET', '/api/projects')).json.projects).toHaveLength(before);
  });

  it('enqueues a manual reconcile with 202', async () => {
    const app = newApp();
    const project = await admin.createProject({ name: 'reconcile', heroku: { accountId, app: app.name } });
    const res = await admin.api('POST', `/api/projects/${project.id}/heroku-sync/reconcile`);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ queued: true, linkId: project.sync.linkId });
    const job = await admin.producer.queue(queueNames.reconcile).getJob(res.json.jobId as string);
    expect(job?.name).toBe('reconcile-link');
    expect(job?.data).toEqual({ linkId: project.sync.linkId, reason: 'manual' });

    const off = await admin.createProject({ name: 'reconcile-off' });
    const refused = await admin.api('POST', `/api/projects/${off.id}/heroku-sync/reconcile`);
    expect(refused.status).toBe(404);
    expect(refused.json.error).toEqual({ code: 'not_found', message: 'the sync is not enabled for this project' });
  });

  it('opts out: deletes the webhook, keeps the env vars, writes an audit row → 204', async () => {
    const app = newApp();
    const project = await admin.createProject({ name: 'opt-out', heroku: { accountId, app: app.name } });
    const before = await reveal(project.id);
    const res = await admin.api('DELETE', `/api/projects/${project.id}/heroku-sync`);
    expect(res.status).toBe(204);
    expect(sim.webhooks({ app: app.name })).toHaveLength(0);
    expect(await reveal(project.id)).toEqual(before);
    expect((await admin.api('GET', `/api/projects/${project.id}/heroku-sync`)).json).toMatchObject({
      enabled: false,
      state: 'disabled',
    });
    const [latest, deleted] = await changeEntries(project.id, 10);
    expect(latest).toMatchObject({ action: 'sync_disabled', actor: 'admin', detail: { webhookDeleted: true } });
    expect(deleted).toMatchObject({ action: 'webhook_deleted', actor: 'admin', detail: { app: app.name } });
    expect((await admin.api('DELETE', `/api/projects/${project.id}/heroku-sync`)).status).toBe(404);

    // A rotation after opting out changes nothing here.
    sim.rotateCredentials({ app: app.name });
    await sim.settled();
    expect(await reveal(project.id)).toEqual(before);
  });

  it('opts out when Heroku is unreachable: the sync turns off and the audit says the webhook is left', async () => {
    const app = newApp();
    const project = await admin.createProject({ name: 'opt-out-offline', heroku: { accountId, app: app.name } });
    sim.setFaults({ api: { errors: { rate: 1, status: 503 } } });
    const res = await admin.api('DELETE', `/api/projects/${project.id}/heroku-sync`);
    expect(res.status).toBe(204);
    sim.clearFaults();
    const status = (await admin.api('GET', `/api/projects/${project.id}/heroku-sync`)).json;
    expect(status).toMatchObject({ enabled: false, state: 'disabled' });
    expect(status.lastError).toMatch(/^the Heroku webhook could not be deleted yet/);
    expect(sim.webhooks({ app: app.name })).toHaveLength(1);
    const entries = (await admin.api('GET', `/api/projects/${project.id}/audit?limit=2`)).json.entries;
    expect(entries).toMatchObject([
      { action: 'sync_disabled', detail: { webhookDeleted: false } },
      { action: 'webhook_delete_failed' },
    ]);
  });

  it('never answers 500 to concurrent enables (a lost race is a 409), and ends with one enabled link', async () => {
    const app = newApp();
    const project = await admin.createProject({ name: 'race' });
    const results = await Promise.all([1, 2, 3].map(() => enable(project.id, { accountId, app: app.name })));
    for (const r of results) expect([200, 409]).toContain(r.status);
    expect(results.some((r) => r.status === 200)).toBe(true);
    const [link] = await admin.database.client.db
      .select()
      .from(herokuLinks)
      .where(eq(herokuLinks.projectId, project.id));
    expect(link?.enabled).toBe(true);
    expect(link?.webhookId).not.toBeNull();
  });
});
