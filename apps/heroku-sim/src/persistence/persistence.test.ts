// heroku-sim keeping its state in Postgres (SIM_STATE_URL): a restart keeps every id, version, config var, webhook
// and OAuth grant, and an answer is only sent once its change is stored.
import { verifyWebhookSignature } from '@hds/heroku';
import { startPostgresServer, testServices, uniqueName } from '@hds/testkit';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HerokuSimOptions } from '../sim.js';
import { startSim, type SimHarness } from '../test-support/sim-harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../test-support/webhook-receiver.js';

const CLIENT = { id: 'kept-client', secret: 'kept-client-secret' };
const CALLBACK = 'http://127.0.0.1:1/auth/heroku/callback';
const HOOK_SECRET = 'kept-webhook-secret';

/** An empty database of its own on `serverUrl` (the test server by default), dropped by `drop`. */
async function emptyDatabase(serverUrl = testServices.pgAdminUrl) {
  const name = uniqueName('hds_simstate');
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      const dropper = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      await dropper.end();
    },
  };
}

describe('heroku-sim keeping its state in Postgres', () => {
  let state: Awaited<ReturnType<typeof emptyDatabase>>;
  let receiver: WebhookReceiver;
  const harnesses: SimHarness[] = [];
  let options: HerokuSimOptions;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });
  beforeEach(async () => {
    state = await emptyDatabase();
    options = {
      stateUrl: state.url,
      oauthClients: [CLIENT],
      preload: { email: 'seed@example.com', apiKey: 'seed-api-key-1', apps: ['seeded-app'] },
    };
  });
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((h) => h.close()));
    await state.drop();
  });

  const start = async () => {
    const h = await startSim(options);
    harnesses.push(h);
    return h;
  };
  const control = async (h: SimHarness, method: string, path: string, body?: unknown) => {
    const answer = await h.api(`/_sim${path}`, { method, ...(body !== undefined ? { body } : {}) });
    expect(answer.status, `${method} /_sim${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
    return answer.body as unknown;
  };

  /** Everything a client sees of the account and its app, through the API and the controls. */
  async function snapshot(h: SimHarness, token: string, app: string) {
    const get = async (path: string) => {
      const answer = await h.api(path, { token });
      expect(answer.status, `GET ${path}`).toBeLessThan(300);
      return answer.body as unknown;
    };
    return {
      account: await get('/account'),
      apps: await get('/apps'),
      app: await get(`/apps/${app}`),
      config: await get(`/apps/${app}/config-vars`),
      releases: await get(`/apps/${app}/releases`),
      releaseConfig: await get(`/apps/${app}/releases/2/config-vars`),
      addons: await get(`/apps/${app}/addons`),
      attachments: await get(`/apps/${app}/addon-attachments`),
      webhooks: await get(`/apps/${app}/webhooks`),
      events: await get(`/apps/${app}/webhook-events`),
      secrets: await control(h, 'GET', `/apps/${app}/webhooks`),
      accounts: await control(h, 'GET', '/accounts'),
      simApps: await control(h, 'GET', '/apps'),
    };
  }

  it('keeps ids, releases, config vars, add-ons, webhooks, maintenance and OAuth grants across a restart', async () => {
    const first = await start();
    const owner = (await control(first, 'POST', '/accounts', { email: 'owner@example.com' })) as {
      id: string;
      apiKey: string;
    };
    const app = (await control(first, 'POST', '/apps', {
      name: 'kept-app',
      accountId: owner.id,
      extraDatabases: ['BRONZE'],
    })) as { id: string; name: string };
    const api = (method: string, path: string, body?: unknown) =>
      first.api(path, { method, token: owner.apiKey, ...(body !== undefined ? { body } : {}) });
    expect((await api('PATCH', `/apps/${app.name}/config-vars`, { FOO: 'bar', GONE: 'soon' })).status).toBe(200);
    expect((await api('PATCH', `/apps/${app.name}/config-vars`, { GONE: null })).status).toBe(200);
    const hook = await api('POST', `/apps/${app.name}/webhooks`, {
      include: ['api:release'],
      level: 'sync',
      url: receiver.url,
      secret: HOOK_SECRET,
    });
    expect(hook.status).toBe(201);
    await control(first, 'POST', `/apps/${app.name}/rotate-credentials`, {});
    const held = (await control(first, 'POST', `/apps/${app.name}/rotate-credentials`, {
      releasePhase: { hold: true },
    })) as { version: number };
    expect((await api('PATCH', `/apps/${app.name}`, { maintenance: true })).body).toMatchObject({ maintenance: true });

    // An OAuth grant: code, then tokens.
    const authorize = await fetch(`${first.url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({
        client_id: CLIENT.id,
        response_type: 'code',
        scope: 'global',
        state: 's',
        redirect_uri: CALLBACK,
        decision: 'allow',
        account_id: owner.id,
      }),
    });
    const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
    const grant = (await (
      await fetch(`${first.url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'authorization_code', code, client_secret: CLIENT.secret }),
      })
    ).json()) as { access_token: string; refresh_token: string };
    await first.sim.settled();
    const before = await snapshot(first, owner.apiKey, app.name);
    expect((before.releases as unknown[]).length).toBe(5);
    await first.close();

    const second = await start();
    const after = await snapshot(second, owner.apiKey, app.name);
    expect(after).toEqual(before);
    // The preload was not made twice: the seeded account and app are the ones kept.
    expect((after.accounts as Array<{ email: string }>).filter((a) => a.email === 'seed@example.com')).toHaveLength(1);
    // The held release is still pending and can be finished; the OAuth tokens work, and refresh.
    await control(second, 'POST', `/apps/${app.name}/releases/${held.version}/finish`, { status: 'succeeded' });
    expect((await second.api('/account', { token: grant.access_token })).body).toMatchObject({ id: owner.id });
    const refreshed = await fetch(`${second.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: grant.refresh_token,
        client_secret: CLIENT.secret,
      }),
    });
    expect(refreshed.status).toBe(200);

    // A rotation after the restart reaches the webhook, signed with the secret given before it.
    const delivered = receiver.received.length;
    const rotated = (await control(second, 'POST', `/apps/${app.name}/rotate-credentials`, {})) as { version: number };
    expect(rotated.version).toBe(held.version + 1);
    await second.sim.settled();
    const deliveries = receiver.received.slice(delivered).filter((d) => d.json.data.version === rotated.version);
    expect(deliveries.map((d) => d.json.action)).toEqual(['create', 'update']);
    for (const delivery of deliveries) {
      const signature = delivery.headers['heroku-webhook-hmac-sha256'] as string;
      expect(verifyWebhookSignature({ body: delivery.body, signature, secrets: [HOOK_SECRET] }).ok).toBe(true);
      expect(delivery.json.data.app).toMatchObject({ id: app.id, name: app.name });
    }
  });

  it('answers a change only once it is stored', async () => {
    const h = await start();
    const sql = postgres(state.url, { max: 1, onnotice: () => {} });
    try {
      const account = (await control(h, 'POST', '/accounts', { email: 'stored@example.com' })) as { id: string };
      expect(await sql`select email from heroku_sim.accounts where id = ${account.id}`).toEqual([
        { email: 'stored@example.com' },
      ]);
      const app = (await control(h, 'POST', '/apps', { name: 'stored-app', accountId: account.id })) as {
        id: string;
      };
      const { version } = (await control(h, 'POST', '/apps/stored-app/config-vars', { vars: { A: '1' } })) as {
        version: number;
      };
      expect(
        await sql`select version, config->>'A' as a from heroku_sim.releases where app_id = ${app.id} order by version`,
      ).toEqual([
        { version: 1, a: null },
        { version, a: '1' },
      ]);
      await control(h, 'DELETE', '/apps/stored-app');
      expect(await sql`select 1 from heroku_sim.apps where id = ${app.id}`).toHaveLength(0);
      expect(await sql`select 1 from heroku_sim.releases where app_id = ${app.id}`).toHaveLength(0);
    } finally {
      await sql.end();
    }
  });

  it('forgets the kept state on reset (OAuth clients stay) and makes the preload again', async () => {
    const h = await start();
    const account = (await control(h, 'POST', '/accounts', { email: 'gone@example.com' })) as { id: string };
    await control(h, 'POST', '/apps', { name: 'gone-app', accountId: account.id });
    await control(h, 'POST', '/reset');
    await h.close();
    harnesses.splice(0);
    const again = await start();
    expect(((await control(again, 'GET', '/accounts')) as Array<{ email: string }>).map((a) => a.email)).toEqual([
      'seed@example.com',
    ]);
    expect(((await control(again, 'GET', '/apps')) as Array<{ name: string }>).map((a) => a.name)).toEqual([
      'seeded-app',
    ]);
  });
});

describe('heroku-sim keeping its state in a Postgres that goes away', () => {
  it('answers 503 while the state cannot be written, and writes the change with the next one', async () => {
    const server = await startPostgresServer({ settings: { fsync: 'off' } });
    try {
      const state = await emptyDatabase(server.url);
      const h = await startSim({ stateUrl: state.url });
      try {
        await server.stop();
        const refused = await h.api('/_sim/accounts', { method: 'POST', body: { email: 'early@example.com' } });
        expect(refused).toMatchObject({ status: 503, body: { id: 'service_unavailable' } });
        await server.start();
        const accepted = await h.api('/_sim/accounts', { method: 'POST', body: { email: 'later@example.com' } });
        expect(accepted.status).toBe(201);
        const sql = postgres(state.url, { max: 1, onnotice: () => {} });
        expect(await sql`select email from heroku_sim.accounts order by seq`).toEqual([
          { email: 'early@example.com' },
          { email: 'later@example.com' },
        ]);
        await sql.end();
      } finally {
        await h.close();
      }
    } finally {
      await server.close();
    }
  });
});
