import { createHerokuSim, type HerokuSim, type SimAccount, type SimServer } from '@hds/heroku-sim';
import { RequestGate, testWebhookSigningKeys } from '@hds/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAdmin, type AdminHarness } from '../test-support/harness.js';

// Changes to an enabled sync, through the API (issue 17).
let sim: HerokuSim;
let simServer: SimServer;
let admin: AdminHarness;
let gate: RequestGate;
let owner: SimAccount;
let accountId: string;

let appCounter = 0;
const appName = () => `changes-${process.pid}-${(appCounter += 1)}`;

beforeAll(async () => {
  sim = createHerokuSim({ retryScheduleMs: [] });
  simServer = await sim.listen();
  gate = new RequestGate();
  admin = await startAdmin({
    sync: {
      heroku: { apiUrl: simServer.url, dispatcher: gate, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } },
      // Deliveries go nowhere (a closed port): these tests look at what the API call itself did.
      webhooks: { publicBaseUrl: 'http://127.0.0.1:9', signingKeys: testWebhookSigningKeys },
    },
  });
  owner = sim.createAccount({ email: 'changes@example.com' });
  accountId = (await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: owner.apiKey } })).json.id;
});
afterEach(() => gate.releaseAll());
afterAll(async () => {
  await admin.close();
  await sim.close();
  await gate.close();
});

const enable = (projectId: string, body: Record<string, unknown>) =>
  admin.api('PUT', `/api/projects/${projectId}/heroku-sync`, { body });
const reveal = async (projectId: string) =>
  Object.fromEntries(
    (
      (await admin.api('GET', `/api/projects/${projectId}/env?reveal=true`)).json.vars as {
        name: string;
        value: string;
      }[]
    ).map((v) => [v.name, v.value]),
  );
const audit = async (projectId: string) =>
  ((await admin.api('GET', `/api/projects/${projectId}/audit?limit=50`)).json.entries as { action: string }[])
    .filter((e) => e.action !== 'env_revealed')
    .reverse();

describe('a new mapping on an enabled sync (defect 16)', () => {
  it('applies the current release for it before answering', async () => {
    const app = sim.createApp({
      name: appName(),
      accountId: owner.id,
      configVars: { REDIS_URL: 'redis://cache:6379' },
    });
    const project = await admin.createProject({ name: 'mappings', heroku: { accountId, app: app.name } });
    expect(await reveal(project.id)).toEqual({ HASURA_GRAPHQL_DATABASE_URL: app.databaseUrl });

    const mappings = { DATABASE_URL: 'HASURA_GRAPHQL_DATABASE_URL', REDIS_URL: 'CACHE_URL' };
    const res = await enable(project.id, { accountId, app: app.name, mappings });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ mappings, state: 'active', lastReleaseVersion: 1 });
    expect(await reveal(project.id)).toEqual({
      HASURA_GRAPHQL_DATABASE_URL: app.databaseUrl,
      CACHE_URL: 'redis://cache:6379',
    });
    const entries = await audit(project.id);
    expect(entries.map((e) => e.action).slice(-2)).toEqual(['mappings_changed', 'env_synced']);
    expect(entries.at(-1)).toMatchObject({ varName: 'CACHE_URL', releaseVersion: 1 });
  });
});

describe('three simultaneous enables of one project (defect 8)', () => {
  it('one wins, the others get 409; one webhook, one webhook_created row', async () => {
    const app = sim.createApp({ name: appName(), accountId: owner.id });
    const project = await admin.createProject({ name: 'race' });
    // The first enable to reach Heroku's webhook list waits there while two more arrive.
    gate.hold((r) => r.method === 'GET' && r.path === `/apps/${app.id}/webhooks`, { count: 1 });
    const first = enable(project.id, { accountId, app: app.name });
    await gate.waitForHeld(1);
    const others = await Promise.all([1, 2].map(() => enable(project.id, { accountId, app: app.name })));
    gate.releaseAll();
    const winner = await first;

    expect(winner.status).toBe(200);
    expect(winner.json).toMatchObject({ enabled: true, state: 'active', lastReleaseVersion: 1 });
    expect(others.map((r) => [r.status, (r.json as { error?: { code?: string } }).error?.code])).toEqual([
      [409, 'conflict'],
      [409, 'conflict'],
    ]);
    expect(sim.webhooks({ app: app.name })).toHaveLength(1);
    const created = async () => (await audit(project.id)).filter((e) => e.action === 'webhook_created');
    expect(await created()).toHaveLength(1);

    // Once the winner is done, the same enable is idempotent.
    expect((await enable(project.id, { accountId, app: app.name })).status).toBe(200);
    expect(await created()).toHaveLength(1);
    expect(sim.webhooks({ app: app.name })).toHaveLength(1);
  });
});

describe('moving a link to another app (defect 7)', () => {
  it("deletes the old app's webhook", async () => {
    const [a, b] = [1, 2].map(() => sim.createApp({ name: appName(), accountId: owner.id })) as [
      ReturnType<typeof sim.createApp>,
      ReturnType<typeof sim.createApp>,
    ];
    const project = await admin.createProject({ name: 'move', heroku: { accountId, app: a.name } });
    const oldWebhook = sim.webhooks({ app: a.name })[0]!;

    const res = await enable(project.id, { accountId, app: b.name });
    expect(res.status).toBe(200);
    expect(sim.webhooks({ app: a.name })).toEqual([]);
    expect(sim.webhooks({ app: b.name })).toHaveLength(1);
    expect((await audit(project.id)).filter((e) => e.action === 'webhook_deleted')).toMatchObject([
      { detail: { webhookId: oldWebhook.id, appId: a.id, reason: 'the link moved to another app' } },
    ]);
  });

  it('leaves the deletion to the reconciler when Heroku refuses it at once', async () => {
    const [a, b] = [1, 2].map(() => sim.createApp({ name: appName(), accountId: owner.id })) as [
      ReturnType<typeof sim.createApp>,
      ReturnType<typeof sim.createApp>,
    ];
    const project = await admin.createProject({ name: 'move later', heroku: { accountId, app: a.name } });
    sim.setFaults({ api: { errors: { rate: 1, status: 503, app: a.name } } });
    expect((await enable(project.id, { accountId, app: b.name })).status).toBe(200);
    expect(sim.webhooks({ app: a.name })).toHaveLength(1);
    expect((await audit(project.id)).map((e) => e.action)).toContain('webhook_delete_failed');

    sim.clearFaults();
    const linkId = (await admin.api('GET', `/api/projects/${project.id}/heroku-sync`)).json.linkId as string;
    expect(await admin.sync.reconcileLink(linkId, 'manual', 'reconcile-test')).toMatchObject({ outcome: 'checked' });
    expect(sim.webhooks({ app: a.name })).toEqual([]);
    expect((await audit(project.id)).map((e) => e.action)).toContain('webhook_deleted');
  });

  it('gives up, saying what is left to do, when Heroku refuses the deletion for good', async () => {
    // The old app is another account's, whose API key stops working (a reset, a revoked key): Heroku answers 401.
    const gone = sim.createAccount({ email: `gone-${process.pid}@example.com` });
    const goneId = (await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: gone.apiKey } })).json.id;
    const a = sim.createApp({ name: appName(), accountId: gone.id });
    const b = sim.createApp({ name: appName(), accountId: owner.id });
    const project = await admin.createProject({ name: 'move away', heroku: { accountId: goneId, app: a.name } });
    sim.revokeTokens({ accountId: gone.id, apiKey: true });

    expect((await enable(project.id, { accountId, app: b.name })).status).toBe(200);
    const deletes = () => sim.requests({ method: 'DELETE', path: `/apps/${a.id}/webhooks/` }).length;
    expect(deletes()).toBe(1);
    expect(sim.webhooks({ app: a.name })).toHaveLength(1);
    const failed = (await audit(project.id)).filter((e) => e.action === 'webhook_delete_failed');
    expect(failed).toMatchObject([{ detail: { appId: a.id, retry: expect.stringMatching(/by hand/) } }]);

    // Asking again would fail the same way: the link's reconcile leaves it alone.
    const linkId = (await admin.api('GET', `/api/projects/${project.id}/heroku-sync`)).json.linkId as string;
    expect(await admin.sync.reconcileLink(linkId, 'manual', 'reconcile-test')).toMatchObject({ outcome: 'checked' });
    expect(deletes()).toBe(1);
    expect((await audit(project.id)).filter((e) => e.action === 'webhook_delete_failed')).toHaveLength(1);
  });
});
