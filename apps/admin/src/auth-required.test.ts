// Every route of the admin API, the console, "sign in with Heroku" and Bull Board, read from the routers, refuses a
// request without ADMIN_TOKEN: 401 with a Bearer challenge for the API, a Basic challenge for the others (the
// browser's sign-in prompt; design.md: "Admin API, console and Bull Board require ADMIN_TOKEN"). Nothing changes.
import { randomUUID } from 'node:crypto';
import { dumpRedisKeys, dumpTables, sendHttp, type RawAnswer } from '@hds/testkit';
import type { OutgoingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiRouter } from './api/router.js';
import { createHerokuOAuthRouter } from './auth/heroku-oauth.js';
import { redisOAuthStateStore } from './auth/oauth-state.js';
import { createBullBoardRouter } from './bull-board.js';
import { createConsoleRouter } from './console/router.js';
import { ConsoleClient } from './test-support/browser-client.js';
import { ADMIN_TOKEN, basicAuth, startAdmin, type AdminHarness } from './test-support/harness.js';
import { fillPath, routesOf, type RouteSpec } from './test-support/routes.js';

let admin: AdminHarness;
let projectId: string;

beforeAll(async () => {
  admin = await startAdmin();
  projectId = (await admin.createProject({ name: 'guarded', env: { GUARDED: 'postgres://u:pw@db/x' } })).id;
});
afterAll(() => admin?.close());

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Everything a request that got through could change. */
async function state() {
  return {
    tables: await dumpTables(admin.database.client.sql),
    redis: await dumpRedisKeys(admin.testRedis.redis, admin.testRedis.prefix),
  };
}

/** The routes of each area, from its router; params filled with ids that exist where that matters. */
function areas(): { api: RouteSpec[]; basic: RouteSpec[] } {
  const noop = async () => {};
  const apiRouter = createApiRouter({
    sync: admin.sync,
    destinations: admin.destinations,
    migrations: admin.migrations,
    producer: admin.producer,
    reconcileRearmed: noop,
    adminToken: ADMIN_TOKEN,
  });
  const api = routesOf(apiRouter, '/api');
  const console = routesOf(
    createConsoleRouter({
      sync: admin.sync,
      destinations: admin.destinations,
      migrations: admin.migrations,
      producer: admin.producer,
      secureCookies: false,
      oauthEnabled: false,
      reconcileRearmed: noop,
      apiDocument: apiRouter.document,
    }),
  );
  const oauth = routesOf(
    createHerokuOAuthRouter({
      sync: admin.sync,
      states: redisOAuthStateStore({ redis: admin.testRedis.redis, prefix: admin.testRedis.prefix }),
      oauth: undefined,
      publicUrl: admin.url,
      secureCookies: false,
      reconcileRearmed: noop,
    }),
  );
  const board = routesOf(createBullBoardRouter(admin.producer.all()), '/admin/queues');
  return {
    api: [...api, { method: 'GET', path: '/api/no-such-route' }],
    basic: [...console, ...oauth, ...board, { method: 'GET', path: '/no-such-page' }],
  };
}

const params = () => ({
  id: projectId,
  accountId: randomUUID(),
  name: 'GUARDED',
  queueName: admin.producer.all()[0]!.name,
  jobId: 'some-job',
  queueStatus: 'failed',
  schedulerId: 'some-scheduler',
});

function send(route: RouteSpec, headers: OutgoingHttpHeaders, path?: string): Promise<RawAnswer> {
  const hasBody = !['GET', 'HEAD', 'DELETE'].includes(route.method);
  return sendHttp({
    url: admin.url,
    method: route.method,
    path: path ?? fillPath(route.path, params(), 'x'),
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(hasBody ? { body: JSON.stringify({ name: 'forged', value: 'forged', apiKey: 'forged', count: 1 }) } : {}),
  });
}

const wrongBearers: Array<[string, OutgoingHttpHeaders]> = [
  ['no credentials', {}],
  ['an empty Authorization', { authorization: '' }],
  ['a wrong bearer token', { authorization: 'Bearer wrong-token' }],
  ['the token with a character more', { authorization: `Bearer ${ADMIN_TOKEN}0` }],
  ['the token without its last character', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
  ['the token as Basic password', { authorization: basicAuth() }],
  ['the token without a scheme', { authorization: ADMIN_TOKEN }],
  ['the token in another header', { 'x-admin-token': ADMIN_TOKEN, 'x-api-key': ADMIN_TOKEN }],
  ['the token in a cookie', { cookie: `token=${ADMIN_TOKEN}` }],
];

const wrongBasics: Array<[string, OutgoingHttpHeaders]> = [
  ['no credentials', {}],
  ['a wrong password', { authorization: basicAuth('admin', 'wrong') }],
  ['another user', { authorization: basicAuth('root', ADMIN_TOKEN) }],
  ['the user in upper case', { authorization: basicAuth('ADMIN', ADMIN_TOKEN) }],
  ['an empty password', { authorization: basicAuth('admin', '') }],
  ['the token with a character more', { authorization: basicAuth('admin', `${ADMIN_TOKEN}0`) }],
  ['no colon', { authorization: `Basic ${b64(`admin${ADMIN_TOKEN}`)}` }],
  ['garbage instead of base64', { authorization: 'Basic !!!not-base64!!!' }],
  ['the token as a bearer', { authorization: `Bearer ${ADMIN_TOKEN}` }],
  ['the token as a cookie', { cookie: `token=${ADMIN_TOKEN}` }],
];

describe('every route refuses a request without ADMIN_TOKEN', () => {
  let before: Awaited<ReturnType<typeof state>>;
  beforeAll(async () => {
    before = await state();
  });

  it('finds the routes of each area in the routers', () => {
    const { api, basic } = areas();
    // The contract's API calls (design.md) are among them; a new route is covered without editing this test.
    expect(api.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'POST /api/heroku/accounts',
        'GET /api/heroku/accounts/:accountId/apps',
        'POST /api/projects',
        'GET /api/projects',
        'GET /api/projects/:id',
        'GET /api/projects/:id/env',
        'PUT /api/projects/:id/env/:name',
        'PUT /api/projects/:id/heroku-sync',
        'GET /api/projects/:id/heroku-sync',
        'DELETE /api/projects/:id/heroku-sync',
        'POST /api/projects/:id/heroku-sync/reconcile',
        'GET /api/projects/:id/audit',
      ]),
    );
    expect(basic.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'GET /',
        'POST /projects',
        'GET /auth/heroku/start',
        'GET /auth/heroku/callback',
        'GET /admin/queues/',
        'PUT /admin/queues/api/queues/:queueName/clean/:queueStatus',
      ]),
    );
    expect(basic.filter((r) => r.path.startsWith('/admin/queues')).length).toBeGreaterThan(30);
  });

  it('the admin API: 401 with a Bearer challenge, for every route and every wrong credential', async () => {
    const wrong: string[] = [];
    for (const route of areas().api) {
      for (const [what, headers] of wrongBearers) {
        const answer = await send(route, headers);
        const challenge = String(answer.headers['www-authenticate'] ?? '');
        const code = answer.status === 401 ? (JSON.parse(answer.text) as { error: { code: string } }).error.code : '';
        if (answer.status !== 401 || !challenge.startsWith('Bearer realm=') || code !== 'unauthorized')
          wrong.push(`${route.method} ${route.path} with ${what} → ${answer.status} ${challenge}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the console, sign-in and Bull Board: 401 with a Basic challenge, for every route and every wrong credential', async () => {
    const wrong: string[] = [];
    for (const route of areas().basic) {
      for (const [what, headers] of wrongBasics) {
        const answer = await send(route, headers);
        const challenge = String(answer.headers['www-authenticate'] ?? '');
        if (answer.status !== 401 || !challenge.startsWith('Basic realm=') || answer.text.includes('<html'))
          wrong.push(`${route.method} ${route.path} with ${what} → ${answer.status} ${challenge}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a session cookie from a signed-in browser is no credential on its own', async () => {
    const browser = new ConsoleClient(admin.url);
    const home = await browser.get('/');
    expect(home.status).toBe(200);
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const csrf = ConsoleClient.csrfToken(home.text);
    const post = await sendHttp({
      url: admin.url,
      method: 'POST',
      path: '/projects',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'cookie-only', _csrf: csrf }).toString(),
    });
    expect(post.status).toBe(401);
    for (const path of ['/', `/projects/${projectId}`, '/admin/queues/api/queues']) {
      expect((await sendHttp({ url: admin.url, method: 'GET', path, headers: { cookie } })).status).toBe(401);
    }
  });

  it('no path trick reaches a route without credentials', async () => {
    const tricks = [
      '/api/../admin/queues',
      '/admin/queues/../../api/projects',
      '/admin/queues/%2e%2e/%2e%2e/api/projects',
      '/admin%2fqueues/api/queues',
      '/ADMIN/QUEUES/api/queues',
      '/API/projects',
      '//api/projects',
      '/%61pi/projects',
      '/api;/projects',
      '/api/projects/',
      '/api/projects%2f',
      `/healthz/../api/projects/${projectId}/env?reveal=true`,
      '/metrics/../admin/queues',
      `/projects/${projectId}/../../api/projects`,
    ];
    const wrong: string[] = [];
    for (const path of tricks) {
      const answer = await sendHttp({ url: admin.url, method: 'GET', path });
      if (answer.status !== 401) wrong.push(`${path} → ${answer.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it('changed nothing', async () => {
    expect(await state()).toEqual(before);
  });

  it('lets the right credentials through on every route (so the refusals above are about credentials)', async () => {
    const { api, basic } = areas();
    const through: string[] = [];
    // Ids that do not exist and forms without a CSRF token: past auth, the routes refuse them without side effects.
    const missing = { id: randomUUID(), accountId: randomUUID(), queueName: 'no-such-queue', jobId: 'none' };
    for (const route of api) {
      const answer = await send(route, { authorization: `Bearer ${ADMIN_TOKEN}` }, fillPath(route.path, missing, 'x'));
      if (answer.status === 401) through.push(`${route.method} ${route.path}`);
    }
    // Bull Board's PUTs without a queue name act on every queue: left out here (they are covered above).
    const safe = basic.filter((r) => r.method === 'GET' || r.method === 'POST' || r.path.includes(':queueName'));
    for (const route of safe) {
      const answer = await send(route, { authorization: basicAuth() }, fillPath(route.path, missing, 'x'));
      if (answer.status === 401) through.push(`${route.method} ${route.path}`);
    }
    expect(through).toEqual([]);
    expect(safe.length).toBeGreaterThan(20);
  });
});
