import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSim, type SimHarness } from '../test-support/sim-harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../test-support/webhook-receiver.js';

describe('/_sim/ controls over HTTP', () => {
  let h: SimHarness;
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    h = await startSim({ preload: { email: 'seed@example.com', apiKey: 'seed-api-key-123', apps: ['seed-app'] } });
    receiver = await startWebhookReceiver();
  });
  afterEach(async () => {
    await h.close();
    await receiver.close();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are inspected freely
  type SimAnswer = { status: number; body: any };
  const sim = async (method: string, path: string, body?: unknown): Promise<SimAnswer> => {
    const answer = await fetch(`${h.url}/_sim${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await answer.text();
    return { status: answer.status, body: text === '' ? undefined : JSON.parse(text) };
  };

  it('creates accounts and apps whose credentials work on the Platform API', async () => {
    const account = await sim('POST', '/accounts', { email: 'dev@example.com' });
    expect(account).toEqual({
      status: 201,
      body: { id: expect.any(String), email: 'dev@example.com', apiKey: expect.stringMatching(/^HRKU-/) },
    });
    expect((await h.api('/account', { token: account.body.apiKey })).body.email).toBe('dev@example.com');
    expect((await sim('POST', '/accounts', { email: 'dev@example.com' })).body.id).toBe('invalid_params');
    expect((await sim('POST', '/accounts', { email: 'not-an-email' })).status).toBe(422);

    const created = await sim('POST', '/apps', { name: 'my-app', accountId: account.body.id, extraDatabases: 2 });
    expect(created).toEqual({
      status: 201,
      body: { id: expect.any(String), name: 'my-app', databaseUrl: expect.stringMatching(/^postgres:\/\//) },
    });
    const config = await h.api('/apps/my-app/config-vars', { token: account.body.apiKey });
    expect(Object.keys(config.body as object).sort()).toEqual([
      'DATABASE_URL',
      'HEROKU_POSTGRESQL_AMBER_URL',
      'HEROKU_POSTGRESQL_BLACK_URL',
    ]);
    expect(new Set(Object.values(config.body as object)).size).toBe(3);
    expect((await sim('POST', '/apps', { name: 'Bad_Name', accountId: account.body.id })).status).toBe(422);
    expect((await sim('POST', '/apps', { name: 'my-app', accountId: account.body.id })).status).toBe(422);
    expect((await sim('POST', '/apps', { name: 'other-app', accountId: 'nobody' })).status).toBe(404);
    expect((await sim('GET', '/apps')).body).toHaveLength(2);
  });

  it('rotates the primary or another database and sets config vars, making releases', async () => {
    const seed = (await sim('GET', '/accounts')).body[0];
    await sim('POST', '/apps', { name: 'two-dbs', accountId: seed.id, extraDatabases: ['BRONZE'] });
    const before = (await sim('GET', '/apps/two-dbs/config-vars')).body;
    const bronze = await sim('POST', '/apps/two-dbs/rotate-credentials', { database: 'HEROKU_POSTGRESQL_BRONZE' });
    expect(bronze).toEqual({ status: 200, body: { version: 2, databaseUrl: expect.any(String) } });
    const after = (await sim('GET', '/apps/two-dbs/config-vars')).body;
    expect(after.DATABASE_URL).toBe(before.DATABASE_URL);
    expect(after.HEROKU_POSTGRESQL_BRONZE_URL).toBe(bronze.body.databaseUrl);
    const release = await h.api('/apps/two-dbs/releases/2', { token: 'seed-api-key-123' });
    expect(release.body).toMatchObject({
      description: 'Update HEROKU_POSTGRESQL_BRONZE by heroku-postgresql',
      user: { email: 'heroku-postgresql@addons.heroku.com' },
      status: 'succeeded',
    });
    const primary = await sim('POST', '/apps/two-dbs/rotate-credentials', {});
    expect(primary.body.version).toBe(3);
    expect((await sim('GET', '/apps/two-dbs/config-vars')).body.DATABASE_URL).toBe(primary.body.databaseUrl);
    expect((await sim('POST', '/apps/two-dbs/rotate-credentials', { database: 'NOPE' })).status).toBe(404);
    expect((await sim('POST', '/apps/nope/rotate-credentials', {})).body).toEqual({
      id: 'not_found',
      message: "Couldn't find that app.",
    });

    const many = await sim('POST', '/rotate-credentials', { apps: ['two-dbs', 'two-dbs'] });
    expect(many.body).toEqual([
      { app: 'two-dbs', version: 4, databaseUrl: expect.any(String) },
      { app: 'two-dbs', version: 5, databaseUrl: expect.any(String) },
    ]);
    expect((await sim('GET', '/apps/two-dbs/config-vars')).body.DATABASE_URL).toBe(many.body[1].databaseUrl);
    expect((await sim('POST', '/rotate-credentials', { apps: [] })).status).toBe(422);

    const set = await sim('POST', '/apps/two-dbs/config-vars', {
      vars: { REDIS_URL: 'redis://x', DATABASE_URL: null },
    });
    expect(set).toEqual({ status: 200, body: { version: 6 } });
    const v6 = await h.api('/apps/two-dbs/releases/6', { token: 'seed-api-key-123' });
    expect(v6.body).toMatchObject({
      description: 'Set REDIS_URL and remove DATABASE_URL config vars',
      user: { email: seed.email },
    });
  });

  it('sets, shows and clears faults, refusing bad ones', async () => {
    expect(await sim('POST', '/faults', { deliveries: { drop: { next: 1 } } })).toEqual({
      status: 200,
      body: { deliveries: { drop: { next: 1 } } },
    });
    expect((await sim('GET', '/faults')).body).toEqual({ deliveries: { drop: { next: 1 } } });
    const bad = await sim('POST', '/faults', { deliveries: { drop: { sometimes: true } } });
    expect([bad.status, bad.body.id]).toEqual([422, 'invalid_params']);
    expect((await sim('POST', '/faults', { budgets: [{ accountId: 'nobody', remaining: 0 }] })).status).toBe(404);
    expect((await sim('DELETE', '/faults')).status).toBe(204);
    expect((await sim('GET', '/faults')).body).toEqual({});
  });

  it('shows requests and deliveries, waits for them to settle, and deletes webhooks out of band', async () => {
    const token = 'seed-api-key-123';
    const hook = await h.api('/apps/seed-app/webhooks', {
      method: 'POST',
      token,
      body: { include: ['api:release'], level: 'sync', url: receiver.url },
    });
    await sim('POST', '/faults', { deliveries: { reorder: { next: 2, batch: 5 } } });
    await sim('POST', '/apps/seed-app/rotate-credentials', {});
    expect(await sim('GET', '/deliveries/settled?timeoutMs=2000')).toEqual({ status: 200, body: { settled: true } });
    expect((await sim('GET', '/deliveries?status=held')).body).toHaveLength(2);
    expect((await sim('POST', '/deliveries/release-held')).body).toEqual({ released: 2 });
    expect((await sim('GET', '/deliveries/settled')).body).toEqual({ settled: true });
    const deliveries = (await sim('GET', '/deliveries?app=seed-app')).body;
    expect((deliveries as Array<{ action: string; status: string }>).map((d) => `${d.action}:${d.status}`)).toEqual([
      'create:succeeded',
      'update:succeeded',
    ]);
    expect(receiver.received.map((d) => d.json.action)).toEqual(['update', 'create']);

    const webhooks = (await sim('GET', '/apps/seed-app/webhooks')).body;
    expect(webhooks).toEqual([expect.objectContaining({ id: hook.body.id, secret: expect.any(String) })]);
    expect((await sim('DELETE', `/apps/seed-app/webhooks/${hook.body.id}`)).status).toBe(204);
    expect((await h.api('/apps/seed-app/webhooks', { token })).body).toEqual([]);

    const requests = (await sim('GET', '/requests?path=/apps/seed-app/webhooks&method=GET')).body;
    expect(requests).toEqual([expect.objectContaining({ method: 'GET', status: 200, accountId: expect.any(String) })]);
    expect((await sim('DELETE', '/requests')).status).toBe(204);
    expect((await sim('GET', '/requests')).body).toEqual([]);
  });

  it('expires and revokes tokens, registers OAuth clients, deletes apps and resets to the preload', async () => {
    const seed = (await sim('GET', '/accounts')).body[0];
    expect((await sim('POST', '/expire-access-tokens', {})).body).toEqual({ expired: 0 });
    const revoked = await sim('POST', `/accounts/${seed.id}/revoke-tokens`, { apiKey: true });
    expect(revoked.body).toEqual({ revoked: 0, apiKey: expect.any(String) });
    expect((await h.api('/account', { token: 'seed-api-key-123' })).status).toBe(401);
    const client = await sim('POST', '/oauth-clients', { redirectUri: 'http://127.0.0.1:1/cb' });
    expect(client).toEqual({
      status: 201,
      body: {
        id: expect.any(String),
        secret: expect.any(String),
        redirectUri: 'http://127.0.0.1:1/cb',
        name: expect.any(String),
      },
    });

    expect((await sim('DELETE', '/apps/seed-app')).status).toBe(204);
    expect((await h.api('/apps/seed-app', { token: revoked.body.apiKey })).status).toBe(404);

    expect((await sim('POST', '/reset')).status).toBe(204);
    expect((await sim('GET', '/accounts')).body).toEqual([
      { id: expect.any(String), email: 'seed@example.com', apiKey: 'seed-api-key-123' },
    ]);
    expect((await h.api('/apps/seed-app', { token: 'seed-api-key-123' })).status).toBe(200);
  });
});
