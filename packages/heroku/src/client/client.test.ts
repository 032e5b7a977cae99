import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HerokuClient } from './client.js';
import { HerokuApiError } from './errors.js';
import type { TransportOptions } from './transport.js';

/** A local HTTP server whose answers each test scripts; it records what it received. */
type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let server: Server;
let baseUrl: string;
let handler: Handler;
let received: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  received = [];
});

const TOKEN = 'hrku-secret-token-0123456789';
const sleeps: number[] = [];
function client(overrides: Partial<TransportOptions> = {}): HerokuClient {
  sleeps.length = 0;
  return new HerokuClient({
    baseUrl,
    auth: { token: () => TOKEN },
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
    ...overrides,
  });
}
function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'ratelimit-remaining': '4321', ...headers });
  res.end(JSON.stringify(body));
}

describe('HerokuClient', () => {
  it('sends Heroku headers and parses an answer', async () => {
    handler = (_req, res) => json(res, 200, { DATABASE_URL: 'postgres://u:p@h/d' });
    expect(await client().getReleaseConfigVars('my-app', 7)).toEqual({ DATABASE_URL: 'postgres://u:p@h/d' });
    expect(received[0]).toMatchObject({ method: 'GET', url: '/apps/my-app/releases/7/config-vars' });
    expect(received[0]!.headers).toMatchObject({
      accept: 'application/vnd.heroku+json; version=3',
      authorization: `Bearer ${TOKEN}`,
      'user-agent': expect.stringContaining('heroku-db-sync'),
    });
  });

  it('retries 5xx with growing, jittered delays, then succeeds', async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls += 1;
      if (calls < 3) json(res, 503, { id: 'unavailable', message: 'try later' });
      else json(res, 200, { id: '01234567-0000-0000-0000-000000000000', email: 'a@example.com' });
    };
    expect(await client().getAccount()).toMatchObject({ email: 'a@example.com' });
    expect(calls).toBe(3);
    // full jitter with random() = 0.5: half of 100·2^0, then half of 100·2^1
    expect(sleeps).toEqual([50, 100]);
  });

  it('gives up after the last attempt with a transient, typed error', async () => {
    handler = (_req, res) =>
      json(res, 500, { id: 'internal_server_error', message: 'boom' }, { 'request-id': 'req-1' });
    const error = await client()
      .getApp('x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HerokuApiError);
    expect(error).toMatchObject({ kind: 'server', status: 500, herokuId: 'internal_server_error', requestId: 'req-1' });
    expect((error as HerokuApiError).transient).toBe(true);
    expect(received).toHaveLength(4);
  });

  it('does not retry a 429: it reports the budget so the caller can wait', async () => {
    handler = (_req, res) =>
      json(
        res,
        429,
        { id: 'rate_limit', message: 'Your account reached the API rate limit' },
        {
          'ratelimit-remaining': '0',
          'retry-after': '30',
        },
      );
    const error = (await client()
      .getReleaseConfigVars('x', 2)
      .catch((e: unknown) => e)) as HerokuApiError;
    expect(error).toMatchObject({ kind: 'rate_limited', rateLimitRemaining: 0, retryAfterMs: 30_000 });
    expect(error.transient).toBe(true);
    expect(received).toHaveLength(1);
  });

  it.each([
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [404, 'not_found'],
    [422, 'invalid_params'],
  ] as const)('reports %i as a permanent %s error with Heroku’s message', async (status, kind) => {
    handler = (_req, res) => json(res, status, { id: kind, message: `Heroku says ${kind}` });
    const error = (await client()
      .getApp('x')
      .catch((e: unknown) => e)) as HerokuApiError;
    expect(error).toMatchObject({ kind, status, herokuMessage: `Heroku says ${kind}` });
    expect(error.transient).toBe(false);
    expect(error.message).toContain(`Heroku says ${kind}`);
    expect(received).toHaveLength(1);
  });

  it('refreshes the token once after a 401 and retries with the new one', async () => {
    handler = (req, res) =>
      req.headers.authorization === 'Bearer fresh'
        ? json(res, 200, { id: 'a', name: 'x' })
        : json(res, 401, { id: 'unauthorized', message: 'Invalid credentials provided.' });
    let refreshes = 0;
    const refreshed = client({
      auth: {
        token: () => 'stale',
        refresh: async () => {
          refreshes += 1;
          return 'fresh';
        },
      },
    });
    expect(await refreshed.getApp('x')).toMatchObject({ name: 'x' });
    expect(refreshes).toBe(1);
  });

  it('refreshes at most once per call', async () => {
    handler = (_req, res) => json(res, 401, { id: 'unauthorized', message: 'Invalid credentials provided.' });
    let refreshes = 0;
    const c = client({ auth: { token: () => 'stale', refresh: async () => `fresh-${++refreshes}` } });
    await expect(c.getApp('x')).rejects.toMatchObject({ kind: 'unauthorized' });
    expect(refreshes).toBe(1);
    expect(received).toHaveLength(2);
  });

  it('follows Next-Range across pages', async () => {
    const all = Array.from({ length: 5 }, (_, i) => ({ id: `id-${i}`, name: `app-${i}` }));
    handler = (req, res) => {
      const range = String(req.headers.range);
      const start = range.startsWith(']') ? Number(/^\]id-(\d+)/.exec(range)![1]) + 1 : 0;
      const page = all.slice(start, start + 2);
      const more = start + 2 < all.length;
      json(res, more ? 206 : 200, page, more ? { 'next-range': `]${page.at(-1)!.id}..; max=2` } : {});
    };
    expect((await client().listApps()).map((a) => a.name)).toEqual(all.map((a) => a.name));
    expect(received.map((r) => r.headers.range)).toEqual(['id ..; max=1000', ']id-1..; max=2', ']id-3..; max=2']);
  });

  it('asks for the newest releases with a descending range', async () => {
    handler = (_req, res) => json(res, 200, [{ id: 'r', version: 9, status: 'succeeded' }]);
    expect(await client().listRecentReleases('x', 10)).toMatchObject([{ version: 9 }]);
    expect(received[0]!.headers.range).toBe('version ..; order=desc, max=10');
  });

  it('times out a request that does not answer, and retries it', async () => {
    handler = () => {}; // never answers
    const error = (await client({ timeoutMs: 50, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } })
      .getApp('x')
      .catch((e: unknown) => e)) as HerokuApiError;
    expect(error).toMatchObject({ kind: 'timeout' });
    expect(received).toHaveLength(2);
  });

  it('does not repeat a POST that may have taken effect', async () => {
    handler = (req) => req.socket.destroy();
    await expect(
      client().createWebhook('x', { include: ['api:release'], level: 'sync', url: 'https://h/x' }),
    ).rejects.toMatchObject({ kind: 'network' });
    expect(received).toHaveLength(1);
  });

  it('returns a generated webhook secret from the response header', async () => {
    handler = (_req, res, body) =>
      json(res, 201, { id: 'w1', ...(JSON.parse(body) as object) }, { 'heroku-webhook-secret': 'generated' });
    const result = await client().createWebhook('x', { include: ['api:release'], level: 'sync', url: 'https://h/x' });
    expect(result).toMatchObject({ webhook: { id: 'w1', level: 'sync' }, generatedSecret: 'generated' });
    expect(JSON.parse(received[0]!.body)).toEqual({ include: ['api:release'], level: 'sync', url: 'https://h/x' });
  });

  it('rejects an answer that lacks what the service relies on', async () => {
    handler = (_req, res) => json(res, 200, [{ version: 'nine' }]);
    await expect(client().listRecentReleases('x')).rejects.toMatchObject({ kind: 'unexpected' });
  });

  it('never puts the token in an error message', async () => {
    handler = (req) => req.socket.destroy();
    const error = (await client({ retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } })
      .getApp('x')
      .catch((e: unknown) => e)) as HerokuApiError;
    expect(`${error.message} ${String(error.stack)}`).not.toContain(TOKEN);
  });

  it('reports every call for metrics, with the route template', async () => {
    handler = (_req, res) => json(res, 200, { DATABASE_URL: 'postgres://u:p@h/d' });
    const calls: unknown[] = [];
    const answer = await client({ onCall: (info) => calls.push(info) }).getReleaseConfigVars('my-app', 7);
    expect(answer).toEqual({ DATABASE_URL: 'postgres://u:p@h/d' });
    expect(calls).toEqual([
      expect.objectContaining({
        method: 'GET',
        route: '/apps/{app}/releases/{version}/config-vars',
        status: 200,
        rateLimitRemaining: 4321,
      }),
    ]);
  });
});
