import { randomUUID } from 'node:crypto';
import { createHerokuSim, type HerokuSim, type SimServer } from '@hds/heroku-sim';
import { herokuSchemaValidator } from '@hds/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HerokuClient } from './client.js';
import { buildAuthorizeUrl, exchangeOAuthCode, refreshOAuthToken, type OAuthClientConfig } from './oauth.js';
import type { TransportOptions } from './transport.js';

/** The client against heroku-sim: retries, budgets, paging, OAuth refresh, and every answer checked against the schema. */
const OAUTH = { id: 'client-test', secret: 'client-test-secret', redirectUri: 'http://127.0.0.1:9/callback' };
let sim: HerokuSim;
let server: SimServer;
const schema = herokuSchemaValidator();

beforeAll(async () => {
  sim = createHerokuSim({ oauthClients: [OAUTH], seed: 7 });
  server = await sim.listen();
});
afterAll(() => sim.close());

function clientFor(token: string, overrides: Partial<TransportOptions> = {}) {
  const sleeps: number[] = [];
  const client = new HerokuClient({
    baseUrl: server.url,
    auth: { token: () => token },
    retry: { attempts: 4, baseDelayMs: 40, maxDelayMs: 1000 },
    random: () => 1,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  return { client, sleeps };
}

function expectSchema(method: string, path: string, body: unknown, status = 200) {
  const check = schema.checkResponse({ method, path, status, body });
  expect(check, JSON.stringify(check)).toMatchObject({ ok: true });
}

describe('HerokuClient against heroku-sim', () => {
  it('reads every resource the service uses, each answer valid against the Platform API schema', async () => {
    const account = sim.createAccount({ email: `a-${randomUUID().slice(0, 6)}@example.com` });
    const app = sim.createApp({
      name: `schema-${randomUUID().slice(0, 8)}`,
      accountId: account.id,
      extraDatabases: ['PINK'],
    });
    const { version } = sim.rotateCredentials({ app: app.name });
    const { client } = clientFor(account.apiKey);

    expectSchema('GET', '/account', await client.getAccount());
    expectSchema('GET', `/apps/${app.name}`, await client.getApp(app.name));
    for (const listed of await client.listApps()) expectSchema('GET', `/apps/${listed.id}`, listed);
    const config = await client.getReleaseConfigVars(app.id, version);
    expectSchema('GET', `/apps/${app.id}/releases/${version}/config-vars`, config);
    expect(config).toEqual(sim.configVars({ app: app.name }));
    expect(config.HEROKU_POSTGRESQL_PINK_URL).toMatch(/^postgres:\/\//);
    const recent = await client.listRecentReleases(app.id, 10);
    expect(recent.map((r) => r.version)).toEqual([version, version - 1]);
    expect(recent[0]).toMatchObject({ status: 'succeeded' });
    for (const release of recent) expectSchema('GET', `/apps/${app.id}/releases/${release.version}`, release);

    const created = await client.createWebhook(app.id, {
      include: ['api:release'],
      level: 'sync',
      url: 'https://hooks.example.com/x',
      secret: 'the-secret',
    });
    expectSchema('POST', `/apps/${app.id}/webhooks`, created.webhook, 201);
    expectSchema(
      'GET',
      `/apps/${app.id}/webhooks/${created.webhook.id}`,
      await client.getWebhook(app.id, created.webhook.id),
    );
    const updated = await client.updateWebhook(app.id, created.webhook.id, { level: 'notify' });
    expect(updated.level).toBe('notify');
    expectSchema('PATCH', `/apps/${app.id}/webhooks/${created.webhook.id}`, updated);
    expect((await client.listWebhooks(app.id)).map((w) => w.id)).toEqual([created.webhook.id]);
    await client.deleteWebhook(app.id, created.webhook.id);
    await expect(client.getWebhook(app.id, created.webhook.id)).rejects.toMatchObject({
      kind: 'not_found',
      status: 404,
    });
  });

  it('backs off through injected 5xx answers and then succeeds', async () => {
    const account = sim.createAccount({ email: `r-${randomUUID().slice(0, 6)}@example.com` });
    const app = sim.createApp({ name: `retry-${randomUUID().slice(0, 8)}`, accountId: account.id });
    sim.setFaults({ api: { errors: { next: 2, status: 503, accountId: account.id } } });
    try {
      const { client, sleeps } = clientFor(account.apiKey);
      expect(await client.getReleaseConfigVars(app.id, 1)).toHaveProperty('DATABASE_URL');
      // full jitter with random() = 1: the ceiling of each retry, doubling
      expect(sleeps).toEqual([40, 80]);
      const path = `/apps/${app.id}/releases/1/config-vars`;
      expect(sim.requests({ accountId: account.id, path }).map((r) => r.status)).toEqual([503, 503, 200]);
    } finally {
      sim.clearFaults();
    }
  });

  it('reports a spent budget as rate_limited with RateLimit-Remaining, without retrying it', async () => {
    const account = sim.createAccount({ email: `b-${randomUUID().slice(0, 6)}@example.com` });
    const app = sim.createApp({ name: `budget-${randomUUID().slice(0, 8)}`, accountId: account.id });
    sim.setFaults({ budgets: [{ accountId: account.id, remaining: 2, refillPerMinute: 0 }] });
    try {
      const { client } = clientFor(account.apiKey);
      await client.getApp(app.id);
      await client.getApp(app.id);
      const error = await client.getApp(app.id).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'rate_limited', status: 429, herokuId: 'rate_limit', rateLimitRemaining: 0 });
      expect(sim.requests({ accountId: account.id, status: 429 })).toHaveLength(1);
    } finally {
      sim.clearFaults();
    }
  });

  it('lists more than 1,000 apps across pages', async () => {
    const account = sim.createAccount({ email: `p-${randomUUID().slice(0, 6)}@example.com` });
    const names = Array.from(
      { length: 1203 },
      (_, i) => `page-${String(i).padStart(4, '0')}-${randomUUID().slice(0, 6)}`,
    );
    for (const name of names) sim.createApp({ name, accountId: account.id });
    sim.clearRequests();
    const { client } = clientFor(account.apiKey);
    const apps = await client.listApps();
    expect(apps.map((a) => a.name).sort()).toEqual([...names].sort());
    expect(new Set(apps.map((a) => a.id)).size).toBe(1203);
    expect(sim.requests({ accountId: account.id, path: '/apps' }).map((r) => r.status)).toEqual([206, 200]);
  });

  it('refreshes an expired OAuth access token once and carries on', async () => {
    const account = sim.createAccount({ email: `o-${randomUUID().slice(0, 6)}@example.com` });
    const app = sim.createApp({ name: `oauth-${randomUUID().slice(0, 8)}`, accountId: account.id });
    // The authorize page's form, approved for this account.
    const authorize = new URL(
      buildAuthorizeUrl({ oauthUrl: server.url, clientId: OAUTH.id, state: 'st4te', redirectUri: OAUTH.redirectUri }),
    );
    const approval = await fetch(`${server.url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...Object.fromEntries(authorize.searchParams),
        decision: 'allow',
        account_id: account.id,
      }),
    });
    expect(approval.status).toBe(302);
    const callback = new URL(approval.headers.get('location')!);
    expect(callback.searchParams.get('state')).toBe('st4te');
    const config: OAuthClientConfig = { oauthUrl: server.url, clientId: OAUTH.id, clientSecret: OAUTH.secret };
    const tokens = await exchangeOAuthCode(config, callback.searchParams.get('code')!, OAUTH.redirectUri);
    expect(tokens.refreshToken).toBeDefined();

    let current = tokens.accessToken;
    let refreshes = 0;
    const client = new HerokuClient({
      baseUrl: server.url,
      auth: {
        token: () => current,
        refresh: async () => {
          refreshes += 1;
          current = (await refreshOAuthToken(config, tokens.refreshToken!)).accessToken;
          return current;
        },
      },
    });
    expect((await client.getAccount()).email).toBe(account.email);
    sim.expireAccessTokens({ accountId: account.id });
    expect(await client.getReleaseConfigVars(app.id, 1)).toHaveProperty('DATABASE_URL');
    expect(refreshes).toBe(1);
    expect(current).not.toBe(tokens.accessToken);

    // A revoked grant cannot be refreshed: the error says the person must sign in again.
    sim.revokeTokens({ accountId: account.id });
    await expect(client.getApp(app.id)).rejects.toMatchObject({ kind: 'unauthorized' });
    await expect(refreshOAuthToken(config, tokens.refreshToken!)).rejects.toMatchObject({ kind: 'unauthorized' });
  });
});
