// A corpus of hostile requests to the admin API, the console and Bull Board: each gets a 4xx (the console's
// validated forms a redirect with a flash message), never a 5xx, and changes nothing: not a row of any table, not a
// key under the queue prefix, not a webhook or config var at Heroku.
import { gzipSync } from 'node:zlib';
import { createHerokuSim, type HerokuSim, type SimAppCreated, type SimServer } from '@hds/heroku-sim';
import {
  deepArrays,
  deepObjects,
  dumpRedisKeys,
  dumpTables,
  hostileIds,
  hostilePathSegments,
  jsonOfEveryType,
  sendHttp,
  sqlLookingValues,
  type RawAnswer,
} from '@hds/testkit';
import type { OutgoingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiRouter } from './api/router.js';
import { createBullBoardRouter } from './bull-board.js';
import { createConsoleRouter } from './console/router.js';
import { ConsoleClient } from './test-support/browser-client.js';
import { ADMIN_TOKEN, basicAuth, startAdmin, type AdminHarness } from './test-support/harness.js';
import { fillPath, routesOf, type RouteSpec } from './test-support/routes.js';

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const KiB = 1024;

let sim: HerokuSim;
let simServer: SimServer;
let admin: AdminHarness;
let app: SimAppCreated;
let accountId: string;
/** A project with the sync on, and one without it but with an env var. */
let synced: string;
let plain: string;
let before: Awaited<ReturnType<typeof state>>;

beforeAll(async () => {
  sim = createHerokuSim({ oauthClients: [{ id: 'hostile-client', secret: 'hostile-secret' }] });
  simServer = await sim.listen();
  admin = await startAdmin({
    herokuApiUrl: simServer.url,
    oauth: {
      clientId: 'hostile-client',
      clientSecret: 'hostile-secret',
      oauthUrl: simServer.url,
      browserUrl: simServer.url,
    },
  });
  const owner = sim.createAccount({ email: 'owner@example.com' });
  accountId = (await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: owner.apiKey } })).json.id as string;
  app = sim.createApp({ name: `hostile-${process.pid}`, accountId: owner.id });
  synced = (await admin.createProject({ name: 'synced', heroku: { accountId, app: app.name } })).id;
  plain = (await admin.createProject({ name: 'plain', env: { EXISTING: 'postgres://u:kept-secret@db:5432/x' } })).id;
  before = await state();
});

afterAll(async () => {
  await admin?.close();
  await sim?.close();
});

/** Everything a request could change. */
async function state() {
  return {
    tables: await dumpTables(admin.database.client.sql),
    redis: await dumpRedisKeys(admin.testRedis.redis, admin.testRedis.prefix),
    heroku: { webhooks: sim.webhooks({ app: app.name }), config: sim.configVars({ app: app.name }) },
  };
}

/** One request as written (path not normalised), with the bearer token unless `token` says otherwise. */
function call(options: {
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: OutgoingHttpHeaders;
  token?: string | null;
}): Promise<RawAnswer> {
  const headers: OutgoingHttpHeaders = { accept: 'application/json', ...options.headers };
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  return sendHttp({ url: admin.url, method: options.method, path: options.path, headers, ...withBody(options.body) });
}
const withBody = (body: string | Buffer | undefined) => (body === undefined ? {} : { body });

/** The API's routes, from its router. */
function apiRoutes(): RouteSpec[] {
  const router = createApiRouter({
    sync: admin.sync,
    destinations: admin.destinations,
    migrations: admin.migrations,
    producer: admin.producer,
    reconcileRearmed: async () => {},
    adminToken: ADMIN_TOKEN,
  });
  return routesOf(router, '/api');
}

/** A body each route accepts (so only the hostile part is wrong), and the string and object fields it has. */
function validBody(
  route: RouteSpec,
): { body: Record<string, unknown>; strings: string[]; objects: string[] } | undefined {
  const key = `${route.method} ${route.path}`;
  switch (key) {
    case 'POST /api/heroku/accounts':
      return { body: { apiKey: 'not-a-heroku-key' }, strings: ['apiKey'], objects: [] };
    case 'POST /api/projects':
      return { body: { name: 'never-created' }, strings: ['name'], objects: ['env', 'heroku'] };
    case 'PUT /api/projects/:id/env/:name':
      return { body: { value: 'never-set' }, strings: ['value'], objects: [] };
    case 'PUT /api/projects/:id/heroku-sync':
      return { body: { accountId, app: app.name }, strings: ['accountId', 'app'], objects: ['mappings'] };
    default:
      return undefined;
  }
}

/**
 * Valid path parameters: the plain project (which a hostile call could damage), the account, its var, and
 * well-formed ids of a destination, delivery and read token it does not have.
 */
/** Valid path parameters: the plain project (which a hostile call could damage), the account, its var. */
// A migration that does not exist: its routes answer 404 (or 409), and change nothing.
const validParams = () => ({
  id: plain,
  accountId,
  name: 'EXISTING',
  destinationId: '00000000-0000-4000-8000-000000000001',
  deliveryId: '00000000-0000-4000-8000-000000000002',
  tokenId: '00000000-0000-4000-8000-000000000003',
  migrationId: '00000000-0000-4000-8000-000000000000',
});

interface Hostile {
  name: string;
  send: () => Promise<RawAnswer>;
  /** Allowed statuses (default: any 4xx). */
  status?: number[];
}
const corpus: Hostile[] = [];
const add = (group: string, cases: Hostile[]) =>
  corpus.push(...cases.map((c) => ({ ...c, name: `${group}: ${c.name}` })));

// Routes are known only once the harness runs; the corpus is built in a test that runs first.
function buildApiCorpus(): void {
  const routes = apiRoutes();
  for (const route of routes) {
    const params = [...route.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
    const valid = validBody(route);
    const bodyText = valid ? JSON.stringify(valid.body) : undefined;
    const where = `${route.method} ${route.path}`;

    for (const param of params) {
      const ids = hostileIds.filter((h) => !(param === 'name' && VAR_NAME.test(h.value)));
      add(
        `${where} :${param}`,
        ids.map(({ name, value }) => ({
          name,
          send: () =>
            call({
              method: route.method,
              path: fillPath(route.path, { ...validParams(), [param]: encodeURIComponent(value) }, ''),
              ...withBody(bodyText),
            }),
          status: [400, 404],
        })),
      );
      add(
        `${where} :${param} raw`,
        hostilePathSegments.map((segment) => ({
          name: segment.slice(0, 40),
          send: () =>
            call({
              method: route.method,
              path: fillPath(route.path, { ...validParams(), [param]: segment }, ''),
              ...withBody(bodyText),
            }),
          status: [400, 404, 431],
        })),
      );
    }

    const path = () => fillPath(route.path, validParams(), '');
    if (valid) {
      const send =
        (body: string | Buffer, headers: OutgoingHttpHeaders = {}) =>
        () =>
          call({ method: route.method, path: path(), body, headers });
      const withField = (field: string, value: unknown) => JSON.stringify({ ...valid.body, [field]: value });
      add(`${where} body`, [
        ...['{not json', '{"name": ', '', 'null', '[]', '"text"', '1', 'true', '{}{}', "{'a': 1}"].map((text) => ({
          name: JSON.stringify(text),
          send: send(text),
          status: [400],
        })),
        { name: '10,000 nested arrays', send: send(deepArrays(10_000)), status: [400] },
        { name: '10,000 nested objects', send: send(deepObjects(10_000)), status: [400] },
        {
          name: '10,000 nested arrays in a field',
          send: send(`{"${valid.strings[0]}": ${deepArrays(10_000)}}`),
          status: [400],
        },
        { name: '300 KiB', send: send(withField('pad', 'x'.repeat(300 * KiB))), status: [413] },
        { name: '4 MiB', send: send(withField('pad', 'x'.repeat(4096 * KiB))), status: [413] },
        {
          name: 'a gzip bomb (20 MB inflated)',
          send: send(gzipSync(withField('pad', '0'.repeat(20_000_000))), { 'content-encoding': 'gzip' }),
          status: [413],
        },
        { name: 'an unknown encoding', send: send(bodyText!, { 'content-encoding': 'compress' }), status: [415] },
        {
          name: 'a charset JSON never has',
          send: send(bodyText!, { 'content-type': 'application/json; charset=latin1' }),
          status: [415],
        },
        { name: 'as text/plain', send: send(bodyText!, { 'content-type': 'text/plain' }), status: [400] },
        {
          name: 'as a form',
          send: send(new URLSearchParams(valid.body as Record<string, string>).toString(), {
            'content-type': 'application/x-www-form-urlencoded',
          }),
          status: [400],
        },
        { name: 'an unknown field', send: send(withField('isAdmin', true)), status: [400] },
        {
          name: 'a __proto__ key',
          send: send(bodyText!.replace('{', '{"__proto__": {"isAdmin": true}, ')),
          status: [400],
        },
      ]);
      for (const field of valid.strings) {
        const wrong = [...jsonOfEveryType.filter((v) => typeof v !== 'string'), 'x'.repeat(40_000)];
        if (field !== 'value') wrong.push('');
        if (field !== 'value' && field !== 'apiKey' && field !== 'name') wrong.push(...sqlLookingValues);
        add(
          `${where} ${field}`,
          wrong.map((value) => ({
            name: JSON.stringify(value).slice(0, 30),
            send: send(withField(field, value)),
            status: [400],
          })),
        );
      }
      for (const field of valid.objects) {
        const wrong = [...jsonOfEveryType.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))];
        add(
          `${where} ${field}`,
          wrong.map((value) => ({
            name: JSON.stringify(value),
            send: send(withField(field, value)),
            status: [400],
          })),
        );
      }
    }
    // Every other method on the route's path: no route, no change.
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      if (routes.some((r) => r.path === route.path && r.method === method)) continue;
      add(`${where} as ${method}`, [
        { name: 'wrong method', send: () => call({ method, path: path(), ...withBody(bodyText) }), status: [404] },
      ]);
    }
  }

  add('POST /api/projects nested fields', [
    ...[
      { env: { '1BAD': 'x' } },
      { env: { "'; DROP TABLE projects; --": 'x' } },
      { env: { OK: 1 } },
      { env: { OK: { nested: 'x' } } },
      { env: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`V${i}`, 'x'])) },
      { heroku: { accountId: "' OR 1=1 --", app: app.name } },
      { heroku: { accountId, app: "x'; DROP TABLE heroku_links; --" } },
      { heroku: { accountId, app: '../../apps' } },
      { heroku: { accountId, app: app.name, mappings: { DATABASE_URL: "x'; --" } } },
      { heroku: { accountId, app: app.name, mappings: { "x' OR 1=1": 'TARGET' } } },
      { heroku: { accountId, app: app.name, mappings: { DATABASE_URL: { to: 'T', transforms: ['rm -rf'] } } } },
      { heroku: { accountId, app: app.name, mappings: { A: 'T', B: 'T' } } },
      { heroku: { accountId, app: app.name, extra: true } },
    ].map((fields) => {
      const text = JSON.stringify({ name: 'never-created', ...fields });
      return {
        name: text.slice(0, 90),
        send: () => call({ method: 'POST', path: '/api/projects', body: text }),
        status: [400],
      };
    }),
  ]);
  add('PUT heroku-sync mappings', [
    ...[
      { A: 'T', B: 'T' },
      { DATABASE_URL: "T' --" },
      Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`V${i}`, `T${i}`])),
      { DATABASE_URL: { to: 'T', transforms: ['a', 'b'] } },
      { DATABASE_URL: { to: 'T', extra: 1 } },
    ]
      .map((mappings) => JSON.stringify(mappings))
      .concat(deepObjects(5_000))
      .map((mappings) => ({
        name: mappings.slice(0, 60),
        send: () =>
          call({
            method: 'PUT',
            path: `/api/projects/${plain}/heroku-sync`,
            body: `{"accountId": "${accountId}", "app": "${app.name}", "mappings": ${mappings}}`,
          }),
        status: [400],
      })),
  ]);
  add('POST /api/heroku/accounts', [
    ...sqlLookingValues.map((apiKey) => ({
      // Well-formed, so Heroku is asked, and refuses: the API says so and stores nothing.
      name: `SQL-looking API key ${apiKey}`,
      send: () => call({ method: 'POST', path: '/api/heroku/accounts', body: JSON.stringify({ apiKey }) }),
      status: [422],
    })),
  ]);
  const queries: Array<[string, string[]]> = [
    [
      '/api/projects',
      ['limit=abc', 'limit=-1', 'limit=0', 'limit=1e10', 'limit=1001', 'limit=', 'limit=5&limit=6', "limit=1'--"],
    ],
    [`/api/projects/${plain}/env`, ['reveal=TRUE', 'reveal=1', 'reveal=yes', 'reveal=true&reveal=true', 'reveal=%00']],
    [`/api/projects/${plain}/audit`, ['limit=abc', 'limit=501', 'before=-1', 'before=abc', 'before=1%20OR%201%3D1']],
  ];
  add(
    'query',
    queries.flatMap(([path, list]) =>
      list.map((query) => ({
        name: `${path.replace(plain, ':id')}?${query}`,
        send: () => call({ method: 'GET', path: `${path}?${query}` }),
        status: [400],
      })),
    ),
  );
  const stateChanging = routes.filter((r) => r.method !== 'GET');
  const tokens: Array<[string, OutgoingHttpHeaders]> = [
    ['no token', {}],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['a wrong token', { authorization: 'Bearer wrong' }],
    ['the token and one more character', { authorization: `Bearer ${ADMIN_TOKEN}x` }],
    ['a prefix of the token', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
    ['the token in upper case', { authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` }],
    ['the token as Basic password', { authorization: basicAuth() }],
    ['the token in a cookie', { cookie: `token=${ADMIN_TOKEN}; access_token=${ADMIN_TOKEN}` }],
    ['the token and a second scheme', { authorization: `Bearer ${ADMIN_TOKEN} Bearer x` }],
  ];
  add(
    'forged auth',
    stateChanging.flatMap((route) =>
      tokens.map(([name, headers]) => ({
        name: `${route.method} ${route.path}, ${name}`,
        send: () =>
          call({
            method: route.method,
            path: `${fillPath(route.path, { ...validParams(), id: synced }, '')}?access_token=${ADMIN_TOKEN}`,
            token: null,
            headers,
            ...withBody(validBody(route) ? JSON.stringify(validBody(route)!.body) : undefined),
          }),
        status: [401],
      })),
    ),
  );
}

/** A console page through the test browser (its cookies), as a `RawAnswer`. */
async function browserGet(browser: ConsoleClient, path: string): Promise<RawAnswer> {
  const page = await browser.get(path);
  return { status: page.status, headers: Object.fromEntries(page.headers), text: page.text };
}

/** A console "browser" with a session, a page's CSRF token and its cookie, plus raw form posts. */
async function consoleSession() {
  const browser = new ConsoleClient(admin.url);
  const page = await browser.get(`/projects/${plain}`);
  expect(page.status).toBe(200);
  const token = ConsoleClient.csrfToken(page.text);
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  return { browser, token, cookie };
}

function formPost(options: {
  path: string;
  body: string;
  cookie?: string;
  headers?: OutgoingHttpHeaders;
  auth?: boolean;
}) {
  return sendHttp({
    url: admin.url,
    method: 'POST',
    path: options.path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(options.auth === false ? {} : { authorization: basicAuth() }),
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...options.headers,
    },
    body: options.body,
  });
}

/** The console's form posts, from its router, with a form each accepts. */
function consoleForms(): Array<{ path: string; form: Record<string, string> }> {
  const router = createConsoleRouter({
    sync: admin.sync,
    destinations: admin.destinations,
    migrations: admin.migrations,
    producer: admin.producer,
    secureCookies: false,
    oauthEnabled: true,
    reconcileRearmed: async () => {},
    apiDocument: createApiRouter({
      sync: admin.sync,
      destinations: admin.destinations,
      migrations: admin.migrations,
      producer: admin.producer,
      reconcileRearmed: async () => {},
      adminToken: ADMIN_TOKEN,
    }).document,
  });
  const forms: Record<string, Record<string, string>> = {
    '/projects': { name: 'never-created' },
    '/accounts': { apiKey: 'never-checked', project: plain },
    '/projects/:id/env': { name: 'EXISTING', value: 'overwritten' },
    '/projects/:id/sync': { accountId, app: app.name, target: 'HASURA_GRAPHQL_DATABASE_URL' },
    '/projects/:id/sync/reconcile': {},
    '/projects/:id/sync/disable': {},
    '/projects/:id/destinations': { url: 'https://hooks.example.com/never-added' },
    '/projects/:id/destinations/:destinationId/test': {},
    '/projects/:id/destinations/:destinationId/delete': {},
    '/projects/:id/deliveries/:deliveryId/redeliver': {},
    '/projects/:id/deliveries/redeliver': { hours: '24' },
    '/projects/:id/migrations': { targetUrl: 'postgres://u:p@127.0.0.1:9/never-started' },
    '/projects/:id/migrations/:migrationId/cancel': {},
  };
  const posts = routesOf(router).filter((r) => r.method === 'POST');
  expect(posts.map((r) => r.path).sort()).toEqual(Object.keys(forms).sort());
  return posts.map((r) => ({ path: fillPath(r.path, { ...validParams(), id: synced }, ''), form: forms[r.path]! }));
}

async function buildConsoleCorpus(): Promise<void> {
  const mine = await consoleSession();
  const other = await consoleSession();
  for (const { path, form } of consoleForms()) {
    const encode = (extra: Record<string, string> = {}) => new URLSearchParams({ ...form, ...extra }).toString();
    add(`console POST ${path.replace(synced, ':id')} CSRF`, [
      { name: 'no token, no session', send: () => formPost({ path, body: encode() }), status: [403] },
      { name: 'no token', send: () => formPost({ path, body: encode(), cookie: mine.cookie }), status: [403] },
      {
        name: 'an empty token',
        send: () => formPost({ path, body: encode({ _csrf: '' }), cookie: mine.cookie }),
        status: [403],
      },
      {
        name: 'a forged token',
        send: () => formPost({ path, body: encode({ _csrf: 'A'.repeat(43) }), cookie: mine.cookie }),
        status: [403],
      },
      {
        name: "another session's token",
        send: () => formPost({ path, body: encode({ _csrf: other.token }), cookie: mine.cookie }),
        status: [403],
      },
      {
        name: 'a token without its session',
        send: () => formPost({ path, body: encode({ _csrf: mine.token }) }),
        status: [403],
      },
      {
        name: 'a token with a forged session cookie',
        send: () =>
          formPost({ path, body: encode({ _csrf: mine.token }), cookie: `hds_session=s%3A${'B'.repeat(43)}.forged` }),
        status: [403],
      },
      {
        name: 'the token in the query string',
        send: () =>
          formPost({ path: `${path}?_csrf=${encodeURIComponent(mine.token)}`, body: encode(), cookie: mine.cookie }),
        status: [403],
      },
      {
        name: 'the token twice',
        send: () =>
          formPost({
            path,
            body: `${encode({ _csrf: mine.token })}&_csrf=${encodeURIComponent(mine.token)}`,
            cookie: mine.cookie,
          }),
        status: [403],
      },
      {
        name: 'the token in a JSON body',
        send: () =>
          formPost({
            path,
            body: JSON.stringify({ ...form, _csrf: mine.token }),
            cookie: mine.cookie,
            headers: { 'content-type': 'application/json' },
          }),
        status: [403],
      },
      {
        name: 'a cross-site post (another Origin, no token)',
        send: () =>
          formPost({
            path,
            body: encode(),
            cookie: mine.cookie,
            headers: {
              origin: 'https://evil.example',
              referer: 'https://evil.example/',
              'sec-fetch-site': 'cross-site',
            },
          }),
        status: [403],
      },
      {
        name: 'the token without Basic credentials',
        send: () => formPost({ path, body: encode({ _csrf: mine.token }), cookie: mine.cookie, auth: false }),
        status: [401],
      },
    ]);
  }

  // With a valid token: hostile ids and fields. The console answers its forms post/redirect/get, so a refused form
  // is a 303 back to a page of the console with a flash message: never elsewhere, never a 5xx.
  const withToken = (path: string, form: Record<string, string>) => () =>
    formPost({ path, body: new URLSearchParams({ ...form, _csrf: mine.token }).toString(), cookie: mine.cookie });
  for (const { path, form } of consoleForms()) {
    if (!path.includes(synced)) continue;
    add(
      `console POST ${path.replace(synced, ':id')} id`,
      hostileIds.map(({ name, value }) => ({
        name,
        send: withToken(path.replace(synced, encodeURIComponent(value)), form),
        status: [303, 404],
      })),
    );
  }
  add('console forms', [
    ...['', ' ', 'x'.repeat(201)].map((name) => ({
      name: `project name ${JSON.stringify(name).slice(0, 20)}`,
      send: withToken('/projects', { name }),
      status: [303],
    })),
    ...['1BAD', "x'; DROP TABLE projects; --", ''].map((name) => ({
      name: `var name ${name}`,
      send: withToken(`/projects/${plain}/env`, { name, value: 'x' }),
      status: [303],
    })),
    {
      name: 'var value 40,000 characters',
      send: withToken(`/projects/${plain}/env`, { name: 'EXISTING', value: 'x'.repeat(40_000) }),
      status: [303],
    },
    ...sqlLookingValues.map((value) => ({
      name: `sync account ${value}`,
      send: withToken(`/projects/${plain}/sync`, { accountId: value, app: app.name, target: 'T' }),
      status: [303],
    })),
    {
      name: 'sync app traversal',
      send: withToken(`/projects/${plain}/sync`, { accountId, app: '../../x', target: 'T' }),
      status: [303],
    },
    ...['//evil.example', 'https://evil.example', '/\\evil.example', "x' OR 1=1"].map((project) => ({
      name: `account form back to ${project}`,
      send: withToken('/accounts', { apiKey: '', project }),
      status: [303],
    })),
    { name: 'a 100 KiB form', send: withToken('/projects', { name: 'x', pad: 'x'.repeat(100 * KiB) }), status: [413] },
  ]);
  add('console pages', [
    ...hostileIds.map(({ name, value }) => ({
      name: `/projects/${name}`,
      send: () => browserGet(mine.browser, `/projects/${encodeURIComponent(value)}`),
      status: [404],
    })),
    ...hostilePathSegments.map((segment) => ({
      name: `/projects/${segment.slice(0, 30)} raw`,
      send: () =>
        sendHttp({
          url: admin.url,
          method: 'GET',
          path: `/projects/${segment}`,
          headers: { authorization: basicAuth() },
        }),
      status: [400, 404, 431],
    })),
    {
      name: 'a project page with a hostile account query',
      send: () => browserGet(mine.browser, `/projects/${plain}?account=${encodeURIComponent("' OR 1=1 --")}&account=x`),
      status: [200],
    },
  ]);
  add('sign in with Heroku', [
    ...hostileIds.map(({ name, value }) => ({
      name: `start for project ${name}`,
      send: () => browserGet(mine.browser, `/auth/heroku/start?project=${encodeURIComponent(value)}`),
      status: [400, 404],
    })),
    {
      name: 'start for two projects',
      send: () => browserGet(mine.browser, `/auth/heroku/start?project=${plain}&project=${synced}`),
      status: [400],
    },
    ...sqlLookingValues.map((value) => ({
      name: `callback with state ${value}`,
      send: () =>
        browserGet(
          mine.browser,
          `/auth/heroku/callback?state=${encodeURIComponent(value)}&code=${encodeURIComponent(value)}`,
        ),
      status: [400],
    })),
    {
      name: 'callback with a huge code',
      send: () => browserGet(mine.browser, `/auth/heroku/callback?state=x&code=${'c'.repeat(5000)}`),
      status: [400],
    },
    {
      name: 'callback with two states',
      send: () => browserGet(mine.browser, '/auth/heroku/callback?state=a&state=b&code=c'),
      status: [400],
    },
  ]);
}

/** Bull Board's routes with a queue name, asked about queues that do not exist: refused (404, or 400 for a body it checks first). */
function buildBullBoardCorpus(): void {
  const board = createBullBoardRouter(admin.producer.all()) as unknown as { router: unknown };
  const routes = routesOf(board, '/admin/queues').filter(
    (r) => r.path.includes('/api/') && r.path.includes(':queueName'),
  );
  expect(routes.length).toBeGreaterThan(10);
  const valid = { jobId: 'no-such-job', queueStatus: 'failed', schedulerId: 'none' };
  add(
    'Bull Board',
    routes.flatMap((route) =>
      ["' OR 1=1 --", '..%2f..%2fapi', '__proto__', 'constructor', '%E2%80%AE', 'heroku-events%00'].map(
        (queueName) => ({
          name: `${route.method} ${route.path} :queueName ${queueName}`,
          send: () =>
            sendHttp({
              url: admin.url,
              method: route.method,
              path: fillPath(
                route.path,
                { ...valid, queueName: queueName.includes('%') ? queueName : encodeURIComponent(queueName) },
                '',
              ),
              headers: { authorization: basicAuth(), 'content-type': 'application/json' },
              ...(route.method === 'GET' ? {} : { body: '{}' }),
            }),
        }),
      ),
    ),
  );
}

describe('hostile requests to the admin', () => {
  it('builds a corpus covering every route of the API, the console and Bull Board', async () => {
    buildApiCorpus();
    await buildConsoleCorpus();
    buildBullBoardCorpus();
    expect(corpus.length).toBeGreaterThan(800);
  });

  it('answers each with a 4xx (or the console’s redirect), never a 5xx', async () => {
    const wrong: string[] = [];
    for (const hostile of corpus) {
      const answer = await hostile.send();
      const status = answer.status ?? 0;
      const expected = hostile.status ?? [];
      const ok = expected.length > 0 ? expected.includes(status) : status >= 400 && status < 500;
      if (!ok) wrong.push(`${hostile.name} → ${status} ${answer.text.slice(0, 160)}`);
      if (status === 303) {
        const location = String(answer.headers.location);
        if (!/^\/(?![/\\])/.test(location)) wrong.push(`${hostile.name} → redirects off the console: ${location}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('changed nothing: every table, every queue key, the Heroku app', async () => {
    expect(await state()).toEqual(before);
  });

  it('still serves the same requests when they are well-formed, and the snapshot sees the change', async () => {
    const created = await call({
      method: 'PUT',
      path: `/api/projects/${plain}/env/EXISTING`,
      body: '{"value": "changed"}',
    });
    expect(created.status).toBe(200);
    expect((await state()).tables).not.toEqual(before.tables);
  });

  it('stores SQL-looking text and prototype names where any text is allowed, verbatim, harming nothing', async () => {
    for (const name of sqlLookingValues) {
      const project = await admin.createProject({ name, env: { __proto__NOT: name, constructor: name } });
      expect((await admin.api('GET', `/api/projects/${project.id}`)).json.name).toBe(name);
      const set = await call({
        method: 'PUT',
        path: `/api/projects/${project.id}/env/__proto__`,
        body: JSON.stringify({ value: name }),
      });
      expect(set.status).toBe(200);
      const vars = (await admin.api('GET', `/api/projects/${project.id}/env?reveal=true`)).json.vars as {
        name: string;
        value: string;
      }[];
      expect(vars.map((v) => [v.name, v.value]).sort()).toEqual(
        [
          ['__proto__', name],
          ['__proto__NOT', name],
          ['constructor', name],
        ].sort(),
      );
    }
    // A `__proto__` key in a JSON object of env vars is dropped by the validation (zod skips it), never applied.
    const created = await call({
      method: 'POST',
      path: '/api/projects',
      body: '{"name": "proto", "env": {"__proto__": {"polluted": "x"}, "KEPT": "v"}}',
    });
    expect(created.status).toBe(201);
    const createdId = (JSON.parse(created.text) as { id: string }).id;
    const createdVars = (await admin.api('GET', `/api/projects/${createdId}/env?reveal=true`)).json.vars as {
      name: string;
    }[];
    expect(createdVars.map((v) => v.name)).toEqual(['KEPT']);
    const tables = await dumpTables(admin.database.client.sql);
    expect(Object.keys(tables)).toEqual(Object.keys(before.tables));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
