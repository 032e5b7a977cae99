import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient } from '../test-support/browser-client.js';
import { ADMIN_TOKEN, basicAuth, startAdmin, type AdminHarness } from '../test-support/harness.js';
import { constantTimeEqual } from './constant-time.js';

let admin: AdminHarness;

beforeAll(async () => {
  admin = await startAdmin();
});
afterAll(() => admin.close());

describe('constantTimeEqual', () => {
  it('tells equal and different secrets apart, whatever their lengths', () => {
    expect(constantTimeEqual('same-token', 'same-token')).toBe(true);
    expect(constantTimeEqual('same-token', 'same-tokeN')).toBe(false);
    expect(constantTimeEqual('short', 'a-much-longer-token')).toBe(false);
    expect(constantTimeEqual('', 'x')).toBe(false);
  });
});

describe('API bearer auth', () => {
  it('answers 401 with a challenge when the token is missing', async () => {
    const res = await admin.api('GET', '/api/projects', { token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="heroku-db-sync admin API"');
    expect(res.json.error.code).toBe('unauthorized');
  });

  it('answers 401 for a wrong token, another scheme, or the token as Basic password', async () => {
    const wrong = await admin.api('GET', '/api/projects', { token: `${ADMIN_TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(wrong.json).toEqual({ error: { code: 'unauthorized', message: 'the bearer token is not valid' } });
    const basic = await admin.api('GET', '/api/projects', { token: null, headers: { authorization: basicAuth() } });
    expect(basic.status).toBe(401);
  });

  it('checks auth before reading the body and before routing', async () => {
    const res = await admin.api('POST', '/api/projects', { token: null, rawBody: '{not json' });
    expect(res.status).toBe(401);
    const unknown = await admin.api('GET', '/api/does-not-exist', { token: null });
    expect(unknown.status).toBe(401);
  });

  it('lets the right token through', async () => {
    const res = await admin.api('GET', '/api/projects');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('Basic auth on the console, sign-in and Bull Board', () => {
  const paths = ['/', '/projects/0b7cbb4e-4a87-4f55-9f4c-2a3f0e1c9d11', '/auth/heroku/start', '/admin/queues'];

  it('challenges without credentials, and refuses a wrong user or password', async () => {
    for (const path of paths) {
      for (const authorization of [undefined, basicAuth('root', ADMIN_TOKEN), basicAuth('admin', 'wrong-password')]) {
        const res = await fetch(`${admin.url}${path}`, {
          headers: authorization ? { authorization } : {},
          redirect: 'manual',
        });
        expect(res.status, `${path} ${authorization}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="heroku-db-sync", charset="UTF-8"');
        expect(await res.text()).not.toContain('<html');
      }
    }
  });

  it('serves the console to admin with ADMIN_TOKEN, with a session cookie that is HttpOnly and SameSite=Lax', async () => {
    const res = await fetch(`${admin.url}/`, { headers: { authorization: basicAuth() } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const [session] = res.headers.getSetCookie().filter((c) => c.startsWith('hds_session='));
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Lax/);
    expect(await res.text()).toContain('<h1>Projects</h1>');
  });

  it('serves Bull Board with every queue of the producer', async () => {
    const browser = new ConsoleClient(admin.url);
    const page = await browser.get('/admin/queues');
    expect(page.status).toBe(200);
    expect(page.text).toContain('heroku-db-sync');
    const queues = await browser.get('/admin/queues/api/queues');
    expect(queues.status).toBe(200);
    const names = (JSON.parse(queues.text) as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual(
      admin.producer
        .all()
        .map((q) => q.name)
        .sort(),
    );
    expect(names).toEqual(['data-migrations', 'deliveries', 'heroku-events', 'heroku-reconcile']);
  });

  it('leaves /healthz, /readyz and /metrics open, and counts requests by route template and status', async () => {
    expect((await fetch(`${admin.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${admin.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { redis: 'ok', postgres: 'ok' } });
    await admin.api('GET', '/api/projects/0b7cbb4e-4a87-4f55-9f4c-2a3f0e1c9d11');
    await admin.api('GET', '/api/projects/not-a-uuid');
    const metrics = await (await fetch(`${admin.url}/metrics`)).text();
    expect(metrics).toMatch(/hds_admin_http_requests_total\{[^}]*route="\/api\/projects\/:id",status="404"[^}]*\} 1/);
    expect(metrics).toMatch(/hds_admin_http_requests_total\{[^}]*route="\/api\/projects\/:id",status="400"[^}]*\} 1/);
    expect(metrics).toMatch(/hds_admin_http_requests_total\{[^}]*route="\/api\/\*",status="401"/);
    expect(metrics).not.toContain('not-a-uuid');
  });
});
