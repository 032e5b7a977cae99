import { herokuSchemaValidator } from '@hds/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimAccount, SimAppCreated } from '../index.js';
import { pluck, startSim, type ApiAnswer, type SimHarness } from '../test-support/sim-harness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const validator = herokuSchemaValidator();

/** The answer matches the schema (or Heroku's error shape) and carries Heroku's headers. */
function expectHerokuAnswer(method: string, path: string, answer: ApiAnswer): void {
  const check = validator.checkResponse({ method, path, status: answer.status, body: answer.body });
  expect(check, `${method} ${path}: ${check.ok ? '' : check.errors}`).toMatchObject({ ok: true });
  expect(answer.headers.get('request-id')).toMatch(UUID);
  expect(answer.headers.get('ratelimit-remaining')).toMatch(/^\d+$/);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
}

describe('Platform API', () => {
  let h: SimHarness;
  let owner: SimAccount;
  let app: SimAppCreated;

  beforeEach(async () => {
    h = await startSim();
    owner = h.sim.createAccount({ email: 'owner@example.com' });
    app = h.sim.createApp({ name: 'sushi-prod', accountId: owner.id, extraDatabases: ['BRONZE'] });
  });
  afterEach(() => h.close());

  const call = async (method: string, path: string, body?: unknown, token = owner.apiKey) => {
    if (body !== undefined && method !== 'GET') {
      const request = validator.checkRequest({ method, path, body });
      expect(request, `request body of ${method} ${path}`).toMatchObject({ ok: true });
    }
    const answer = await h.api(path, { method, token, ...(body !== undefined ? { body } : {}) });
    expectHerokuAnswer(method, path, answer);
    return answer;
  };

  it('answers every endpoint the service and the CLI use in the shape the schema gives', async () => {
    expect((await call('GET', '/account')).body).toMatchObject({ id: owner.id, email: owner.email });
    expect((await call('GET', '/account/rate-limits')).body).toEqual({ remaining: expect.any(Number) });
    expect((await call('GET', '/apps')).body).toHaveLength(1);
    expect((await call('GET', '/users/~/apps')).body).toHaveLength(1);
    expect((await call('GET', `/apps/${app.name}`)).body).toMatchObject({ id: app.id, owner: { id: owner.id } });
    expect((await call('GET', `/apps/${app.id}`)).body).toMatchObject({ name: app.name });
    // Maintenance mode is kept in the app's state.
    expect((await call('PATCH', `/apps/${app.name}`, { maintenance: true })).body).toMatchObject({ maintenance: true });
    expect((await call('GET', `/apps/${app.name}`)).body).toMatchObject({ maintenance: true });
    expect((await call('PATCH', `/apps/${app.name}`, { maintenance: false })).body).toMatchObject({
      maintenance: false,
    });

    const config = (await call('GET', `/apps/${app.name}/config-vars`)).body;
    expect(config.DATABASE_URL).toBe(app.databaseUrl);
    expect(config.HEROKU_POSTGRESQL_BRONZE_URL).toMatch(/^postgres:\/\/\w+:\w+@[\w.-]+:5432\/\w+$/);
    expect((await call('PATCH', `/apps/${app.name}/config-vars`, { FOO: 'bar' })).body).toMatchObject({ FOO: 'bar' });

    const releases = (await call('GET', `/apps/${app.name}/releases`)).body;
    expect(pluck(releases, 'version')).toEqual([1, 2]);
    expect((await call('GET', `/apps/${app.name}/releases/2`)).body).toMatchObject({ version: 2, current: true });
    expect((await call('GET', `/apps/${app.name}/releases/${releases[0].id}`)).body).toMatchObject({ version: 1 });
    expect((await call('GET', `/apps/${app.name}/releases/1/config-vars`)).body).not.toHaveProperty('FOO');

    const addons = (await call('GET', `/apps/${app.name}/addons`)).body;
    expect(pluck(pluck(addons, 'addon_service'), 'name')).toEqual(['heroku-postgresql', 'heroku-postgresql']);
    const attachments = (await call('GET', `/apps/${app.name}/addon-attachments`)).body;
    expect(pluck(attachments, 'name').sort()).toEqual(['DATABASE', 'HEROKU_POSTGRESQL_BRONZE']);
    await call('GET', `/apps/${app.name}/addon-attachments/DATABASE`);
    await call('GET', `/apps/${app.name}/addons/${addons[0].id}`);

    const hook = { include: ['api:release'], level: 'sync', url: 'http://127.0.0.1:9/hooks/1', secret: 's3cret-value' };
    const created = (await call('POST', `/apps/${app.name}/webhooks`, hook)).body;
    expect(created).toMatchObject({ include: ['api:release'], level: 'sync', url: hook.url, app: { id: app.id } });
    expect((await call('GET', `/apps/${app.name}/webhooks`)).body).toHaveLength(1);
    expect((await call('GET', `/apps/${app.name}/webhooks/${created.id}`)).body.id).toBe(created.id);
    const patched = (await call('PATCH', `/apps/${app.name}/webhooks/${created.id}`, { level: 'notify' })).body;
    expect(patched.level).toBe('notify');
    await call('PATCH', `/apps/${app.name}/config-vars`, { FOO: null });
    await h.sim.settled();
    expect((await call('GET', `/apps/${app.name}/webhook-deliveries`)).body.length).toBeGreaterThan(0);
    const events = (await call('GET', `/apps/${app.name}/webhook-events`)).body;
    // Every release since v1 published create + update events (v2 before the webhook existed, v3 after).
    expect(pluck(pluck(events, 'payload'), 'action').sort()).toEqual(['create', 'create', 'update', 'update']);
    await call('GET', `/apps/${app.name}/webhook-events/${events[0].id}`);
    expect((await call('DELETE', `/apps/${app.name}/webhooks/${created.id}`)).body.id).toBe(created.id);
    expect((await call('GET', `/apps/${app.name}/webhooks`)).body).toEqual([]);
  });

  it('keeps the config as of each release and describes changes as Heroku does', async () => {
    await call('PATCH', `/apps/${app.name}/config-vars`, { FOO: '1', BAR: 'x' });
    await call('PATCH', `/apps/${app.name}/config-vars`, { FOO: '2' });
    await call('PATCH', `/apps/${app.name}/config-vars`, { FOO: null });
    expect((await call('GET', `/apps/${app.name}/releases/2/config-vars`)).body).toMatchObject({ FOO: '1', BAR: 'x' });
    expect((await call('GET', `/apps/${app.name}/releases/3/config-vars`)).body).toMatchObject({ FOO: '2' });
    expect((await call('GET', `/apps/${app.name}/releases/4/config-vars`)).body).not.toHaveProperty('FOO');
    expect((await call('GET', `/apps/${app.name}/config-vars`)).body).toEqual({
      DATABASE_URL: app.databaseUrl,
      HEROKU_POSTGRESQL_BRONZE_URL: expect.any(String),
      BAR: 'x',
    });
    const all = (await call('GET', `/apps/${app.name}/releases`)).body;
    expect(pluck(all, 'description')).toEqual([
      'Initial release',
      'Set FOO, BAR config vars',
      'Set FOO config vars',
      'Remove FOO config vars',
    ]);
    expect(new Set(pluck(pluck(all, 'user'), 'email'))).toEqual(new Set([owner.email]));
    expect(pluck(all, 'current')).toEqual([false, false, false, true]);
  });

  it('gives the newest release for `Range: version ..; order=desc, max=1`, and the next with Next-Range', async () => {
    await call('PATCH', `/apps/${app.name}/config-vars`, { A: '1' });
    await call('PATCH', `/apps/${app.name}/config-vars`, { B: '1' });
    const newest = await h.api(`/apps/${app.name}/releases`, {
      token: owner.apiKey,
      headers: { range: 'version ..; order=desc, max=1' },
    });
    expectHerokuAnswer('GET', `/apps/${app.name}/releases`, newest);
    expect(newest.status).toBe(206);
    expect(pluck(newest.body, 'version')).toEqual([3]);
    expect(newest.headers.get('accept-ranges')).toBe('version, id');
    const nextRange = newest.headers.get('next-range')!;
    expect(nextRange).toBe('version ]3..; max=1, order=desc');
    const next = await h.api(`/apps/${app.name}/releases`, { token: owner.apiKey, headers: { range: nextRange } });
    expect(pluck(next.body, 'version')).toEqual([2]);
  });

  it('answers errors with Heroku ids and statuses', async () => {
    const stranger = h.sim.createAccount({ email: 'stranger@example.com' });
    const cases: Array<[string, string, unknown, string | undefined, number, string]> = [
      ['GET', '/apps', undefined, undefined, 401, 'unauthorized'],
      ['GET', '/apps', undefined, 'not-a-key', 401, 'unauthorized'],
      ['GET', '/apps/no-such-app', undefined, owner.apiKey, 404, 'not_found'],
      ['GET', `/apps/${app.name}`, undefined, stranger.apiKey, 404, 'not_found'],
      ['GET', `/apps/${app.id}/config-vars`, undefined, stranger.apiKey, 404, 'not_found'],
      ['GET', `/apps/${app.name}/releases/99`, undefined, owner.apiKey, 404, 'not_found'],
      ['GET', '/no/such/endpoint', undefined, owner.apiKey, 404, 'not_found'],
      ['PATCH', `/apps/${app.name}/config-vars`, { FOO: 1 }, owner.apiKey, 422, 'invalid_params'],
      ['PATCH', `/apps/${app.name}/config-vars`, { 'BAD-NAME': 'x' }, owner.apiKey, 422, 'invalid_params'],
      ['PATCH', `/apps/${app.name}`, { maintenance: 'yes' }, owner.apiKey, 422, 'invalid_params'],
      ['PATCH', `/apps/${app.name}`, { maintenance: true }, stranger.apiKey, 404, 'not_found'],
      [
        'POST',
        `/apps/${app.name}/webhooks`,
        { include: ['api:release'], level: 'sync', url: 'http://127.0.0.1:9/h', extra: true },
        owner.apiKey,
        422,
        'invalid_params',
      ],
      [
        'POST',
        `/apps/${app.name}/webhooks`,
        { include: ['api:release'], level: 'loud', url: 'http://127.0.0.1:9/h' },
        owner.apiKey,
        422,
        'invalid_params',
      ],
      [
        'POST',
        `/apps/${app.name}/webhooks`,
        { include: ['api:nonsense'], level: 'sync', url: 'http://127.0.0.1:9/h' },
        owner.apiKey,
        422,
        'invalid_params',
      ],
      [
        'POST',
        `/apps/${app.name}/webhooks`,
        { include: ['api:release'], level: 'sync', url: 'not a url' },
        owner.apiKey,
        422,
        'invalid_params',
      ],
      [
        'POST',
        `/apps/${app.name}/webhooks`,
        { include: [], level: 'sync', url: 'http://127.0.0.1:9/h' },
        owner.apiKey,
        422,
        'invalid_params',
      ],
      [
        'POST',
        `/apps/${app.name}/webhooks`,
        { level: 'sync', url: 'http://127.0.0.1:9/h' },
        owner.apiKey,
        422,
        'invalid_params',
      ],
    ];
    for (const [method, path, body, token, status, id] of cases) {
      const answer = await h.api(path, {
        method,
        ...(token ? { token } : {}),
        ...(body !== undefined ? { body } : {}),
      });
      expect([method, path, answer.status, answer.body.id]).toEqual([method, path, status, id]);
      expectHerokuAnswer(method, path, answer);
      expect(answer.body.message).toEqual(expect.any(String));
    }
    expect((await h.api(`/apps/${app.name}`, { token: stranger.apiKey })).body.message).toBe("Couldn't find that app.");
  });

  it('refuses a second webhook with the same URL, malformed JSON and a bad Range', async () => {
    const hook = { include: ['api:release'], level: 'sync', url: 'http://127.0.0.1:9/hooks/x' };
    expect((await call('POST', `/apps/${app.name}/webhooks`, hook)).status).toBe(201);
    const again = await h.api(`/apps/${app.name}/webhooks`, { method: 'POST', token: owner.apiKey, body: hook });
    expect([again.status, again.body.id]).toEqual([422, 'invalid_params']);
    const raw = await fetch(`${h.url}/apps/${app.name}/config-vars`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${owner.apiKey}`, 'content-type': 'application/json' },
      body: '{"FOO": ',
    });
    expect([raw.status, ((await raw.json()) as { id: string }).id]).toEqual([400, 'bad_request']);
    for (const range of ['size ..', 'id ..; max=5000', 'garbage']) {
      const answer = await h.api('/apps', { token: owner.apiKey, headers: { range } });
      expect([range, answer.status, answer.body.id]).toEqual([range, 416, 'requested_range_not_satisfiable']);
    }
    expect((await h.api(`/apps/${app.name}/config-vars`, { token: owner.apiKey })).body).not.toHaveProperty('FOO');
  });

  it('generates a webhook secret when none is given and shows the secret once, in Heroku-Webhook-Secret', async () => {
    const generated = await call('POST', `/apps/${app.name}/webhooks`, {
      include: ['api:release'],
      level: 'notify',
      url: 'http://127.0.0.1:9/hooks/a',
    });
    const secret = generated.headers.get('heroku-webhook-secret');
    expect(secret).toMatch(/^[0-9a-f]{60}$/);
    expect(h.sim.webhooks({ app: app.name })[0]?.secret).toBe(secret);
    const given = await call('POST', `/apps/${app.name}/webhooks`, {
      include: ['api:release'],
      level: 'notify',
      url: 'http://127.0.0.1:9/hooks/b',
      secret: 'my-own-secret',
      authorization: 'Bearer abc',
    });
    expect(given.headers.get('heroku-webhook-secret')).toBe('my-own-secret');
    expect(h.sim.webhooks({ app: app.name })[1]?.secret).toBe('my-own-secret');
    const listed = JSON.stringify((await call('GET', `/apps/${app.name}/webhooks`)).body);
    expect(listed).not.toContain(secret!);
    expect(listed).not.toContain('my-own-secret');
    expect(listed).not.toContain('Bearer abc');
  });

  it('accepts the API key as a Bearer token or as the Basic password, as the Heroku CLI sends it', async () => {
    const basic = Buffer.from(`${owner.email}:${owner.apiKey}`).toString('base64');
    const answer = await h.api('/account', { headers: { authorization: `Basic ${basic}` } });
    expect([answer.status, answer.body.email]).toEqual([200, owner.email]);
    const wrong = Buffer.from(`${owner.email}:nope`).toString('base64');
    expect((await h.api('/account', { headers: { authorization: `Basic ${wrong}` } })).status).toBe(401);
  });

  it('leaves an unlisted app out of the account’s app lists while its own routes still answer (fault)', async () => {
    h.sim.createApp({ name: 'sushi-staging', accountId: owner.id });
    const other = h.sim.createAccount({ email: 'other@example.com' });
    const listed = async () => [
      pluck((await call('GET', '/apps')).body, 'name'),
      pluck((await call('GET', '/users/~/apps')).body, 'name'),
    ];
    const setFaults = (faults: unknown) => h.api('/_sim/faults', { method: 'POST', body: faults });

    // By id, for the owner only: another account's entry hides nothing from the owner.
    expect((await setFaults({ api: { unlisted: [{ app: app.id, accountId: owner.id }] } })).status).toBe(200);
    expect(await listed()).toEqual([['sushi-staging'], ['sushi-staging']]);
    expect((await call('GET', `/apps/${app.id}`)).body).toMatchObject({ id: app.id, name: 'sushi-prod' });
    expect((await call('GET', '/apps/sushi-prod/releases')).status).toBe(200);
    await setFaults({ api: { unlisted: [{ app: 'sushi-prod', accountId: other.id }] } });
    expect((await listed()).map((names) => [...names].sort())).toEqual([
      ['sushi-prod', 'sushi-staging'],
      ['sushi-prod', 'sushi-staging'],
    ]);
    // By name, for every account; clearing the faults lists it again.
    await setFaults({ api: { unlisted: [{ app: 'sushi-prod' }] } });
    expect(await listed()).toEqual([['sushi-staging'], ['sushi-staging']]);
    expect((await setFaults({ api: { unlisted: [{ app: '' }] } })).status).toBe(422);
    h.sim.clearFaults();
    expect((await listed())[0]).toHaveLength(2);
  });

  it('records the calls it answered, per account, until cleared', async () => {
    h.sim.clearRequests();
    await h.api(`/apps/${app.name}/config-vars`, { token: owner.apiKey });
    await h.api(`/apps/${app.name}/config-vars`, { token: owner.apiKey, headers: { 'user-agent': 'hds-test' } });
    await h.api('/apps');
    const config = h.sim.requests({ path: `/apps/${app.name}/config-vars`, method: 'GET' });
    expect(config).toHaveLength(2);
    expect(config[1]).toMatchObject({
      accountId: owner.id,
      status: 200,
      userAgent: 'hds-test',
      requestId: expect.stringMatching(UUID),
    });
    expect(h.sim.requests({ status: 401 })).toMatchObject([{ path: '/apps', accountId: null }]);
    h.sim.clearRequests();
    expect(h.sim.requests()).toEqual([]);
  });
});

describe('Platform API paging', () => {
  let h: SimHarness;
  let owner: SimAccount;
  const APPS = 1201;

  beforeEach(async () => {
    h = await startSim();
    owner = h.sim.createAccount({ email: 'many@example.com' });
    for (let i = 0; i < APPS; i += 1)
      h.sim.createApp({ name: `app-${String(i).padStart(4, '0')}`, accountId: owner.id });
  });
  afterEach(() => h.close());

  /** Follows Next-Range from `range` to the end; returns each page. */
  async function allPages(path: string, range?: string) {
    const pages: ApiAnswer[] = [];
    let next = range;
    for (;;) {
      const answer = await h.api(path, { token: owner.apiKey, ...(next ? { headers: { range: next } } : {}) });
      expectHerokuAnswer('GET', path, answer);
      pages.push(answer);
      next = answer.headers.get('next-range') ?? undefined;
      if (answer.status === 200) {
        expect(next).toBeUndefined();
        return pages;
      }
      expect(answer.status).toBe(206);
      expect(pages.length).toBeLessThan(20);
    }
  }

  it('pages more than 1000 apps: 200 by default, 1000 at most, every app once and in order', async () => {
    const byDefault = await allPages('/apps');
    expect(byDefault.map((p) => (p.body as unknown[]).length)).toEqual([200, 200, 200, 200, 200, 200, 1]);
    expect(byDefault[0]!.headers.get('accept-ranges')).toBe('id, name');
    expect(byDefault[0]!.headers.get('content-range')).toMatch(/^id [0-9a-f-]+\.\.[0-9a-f-]+; max=200$/);

    const big = await allPages('/apps', 'id ..; max=1000');
    expect(big.map((p) => (p.body as unknown[]).length)).toEqual([1000, 201]);
    const ids = big.flatMap((p) => pluck(p.body, 'id'));
    expect(new Set(ids).size).toBe(APPS);
    expect(ids).toEqual([...ids].sort());

    const byName = await allPages('/users/~/apps', 'name ..; max=1000, order=desc');
    const names = byName.flatMap((p) => pluck(p.body, 'name'));
    expect(names).toHaveLength(APPS);
    expect(names[0]).toBe('app-1200');
    expect(names[APPS - 1]).toBe('app-0000');
    expect(byName[0]!.headers.get('next-range')).toBe('name ]app-0201..; max=1000, order=desc');
  });
});

describe('released_at', () => {
  it('is the newest release’s time after every release, in GET /apps/{app} and in the app list', async () => {
    let now = Date.parse('2026-03-01T10:00:00.250Z');
    const h = await startSim({ clock: () => now });
    try {
      const owner = h.sim.createAccount({ email: 'released@example.com' });
      const app = h.sim.createApp({ name: 'released-app', accountId: owner.id });
      const releasedAt = async () => {
        const one = (await h.api(`/apps/${app.name}`, { token: owner.apiKey })).body as { released_at: string };
        const list = (await h.api('/apps', { token: owner.apiKey })).body as Array<{ id: string; released_at: string }>;
        expect(list.find((a) => a.id === app.id)?.released_at).toBe(one.released_at);
        return one.released_at;
      };
      expect(await releasedAt()).toBe('2026-03-01T10:00:00Z');
      for (const at of ['2026-03-01T10:05:07.900Z', '2026-03-01T11:00:00.000Z']) {
        now = Date.parse(at);
        const { version } = h.sim.rotateCredentials({ app: app.name });
        const [newest] = (
          await h.api(`/apps/${app.name}/releases`, {
            token: owner.apiKey,
            headers: { range: 'version ..; order=desc, max=1' },
          })
        ).body as Array<{ version: number; created_at: string }>;
        expect(newest!.version).toBe(version);
        expect(await releasedAt()).toBe(newest!.created_at);
        expect(await releasedAt()).toBe(at.replace(/\.\d{3}Z$/, 'Z'));
      }
    } finally {
      await h.close();
    }
  });
});
