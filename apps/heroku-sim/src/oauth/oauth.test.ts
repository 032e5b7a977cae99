import { herokuSchemaValidator } from '@hds/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimAccount } from '../index.js';
import { startSim, type SimHarness } from '../test-support/sim-harness.js';

const CLIENT = { id: 'client-1', secret: 'client-secret-1' };
const CALLBACK = 'http://127.0.0.1:1/auth/heroku/callback';

/** The hidden and named fields of the form on `html` whose button or input matches `marker`. */
function formFields(html: string, marker: string): URLSearchParams {
  const form = html.split('<form').find((f) => f.includes(marker));
  if (!form) throw new Error(`no form with ${marker}`);
  const fields = new URLSearchParams();
  for (const match of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields.set(match[1]!, match[2]!.replace(/&amp;/g, '&'));
  }
  return fields;
}

describe('OAuth (id.heroku.com endpoints)', () => {
  let h: SimHarness;
  let now: number;
  let alice: SimAccount;
  let appName: string;

  beforeEach(async () => {
    now = Date.parse('2025-06-01T00:00:00Z');
    h = await startSim({ clock: () => now, oauthClients: [CLIENT], accessTokenTtlSeconds: 3600 });
    alice = h.sim.createAccount({ email: 'alice@example.com' });
    appName = h.sim.createApp({ name: 'alice-app', accountId: alice.id }).name;
  });
  afterEach(() => h.close());

  const authorizeUrl = (scope: string, extra = '') =>
    `${h.url}/oauth/authorize?client_id=${CLIENT.id}&response_type=code&scope=${encodeURIComponent(scope)}&state=st-123&redirect_uri=${encodeURIComponent(CALLBACK)}${extra}`;

  /** A person opens the authorize page, picks `email`'s button, and is redirected back. */
  async function approve(scope: string, email = alice.email, decision = 'allow'): Promise<URL> {
    const page = await fetch(authorizeUrl(scope));
    expect(page.status).toBe(200);
    const html = await page.text();
    const fields = formFields(html, decision === 'deny' ? 'value="deny"' : `data-account-email="${email}"`);
    if (decision === 'allow')
      expect(fields.get('account_id')).toBe(h.sim.accounts().find((a) => a.email === email)?.id);
    fields.set('decision', decision);
    const answer = await fetch(`${h.url}/oauth/authorize`, { method: 'POST', body: fields, redirect: 'manual' });
    expect(answer.status).toBe(302);
    return new URL(answer.headers.get('location')!);
  }

  async function token(params: Record<string, string>, headers: Record<string, string> = {}) {
    const answer = await fetch(`${h.url}/oauth/token`, { method: 'POST', body: new URLSearchParams(params), headers });
    return { status: answer.status, body: (await answer.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- inspected freely
  }

  async function signIn(scope: string) {
    const callback = await approve(scope);
    const code = callback.searchParams.get('code')!;
    const answer = await token({ grant_type: 'authorization_code', code, client_secret: CLIENT.secret });
    expect(answer.status).toBe(200);
    return { code, ...answer.body } as { code: string; access_token: string; refresh_token: string };
  }

  it('runs the code flow: authorize page, redirect with code and state, token, API calls', async () => {
    const page = await (await fetch(authorizeUrl('read-protected,write'))).text();
    expect(page).toContain('Allow as alice@example.com');
    expect(page).toContain('read-protected write');
    const callback = await approve('read-protected,write');
    expect(`${callback.origin}${callback.pathname}`).toBe(CALLBACK);
    expect(callback.searchParams.get('state')).toBe('st-123');
    const code = callback.searchParams.get('code')!;
    const answer = await token({ grant_type: 'authorization_code', code, client_secret: CLIENT.secret });
    expect(answer).toEqual({
      status: 200,
      body: {
        access_token: expect.stringMatching(/^HRKU-/),
        refresh_token: expect.stringMatching(/^HRKU-/),
        expires_in: 3600,
        token_type: 'Bearer',
        user_id: alice.id,
        session_nonce: expect.any(String),
        scope: 'read-protected write',
      },
    });
    const access = answer.body.access_token as string;
    expect((await h.api(`/apps/${appName}/config-vars`, { token: access })).status).toBe(200);
    const hook = { include: ['api:release'], level: 'sync', url: 'http://127.0.0.1:9/h' };
    expect((await h.api(`/apps/${appName}/webhooks`, { method: 'POST', token: access, body: hook })).status).toBe(201);
    // A code is good once.
    const reused = await token({ grant_type: 'authorization_code', code, client_secret: CLIENT.secret });
    expect([reused.status, reused.body.id]).toEqual([401, 'unauthorized']);
  });

  it('expires access tokens, refreshes them, and stops both once revoked', async () => {
    const signed = await signIn('global');
    expect((await h.api('/account', { token: signed.access_token })).status).toBe(200);
    now += 3600 * 1000;
    const expired = await h.api('/account', { token: signed.access_token });
    expect([expired.status, expired.body.id]).toEqual([401, 'unauthorized']);
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: signed.refresh_token,
      client_secret: CLIENT.secret,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toBe(signed.refresh_token);
    expect(refreshed.body.access_token).not.toBe(signed.access_token);
    expect((await h.api('/account', { token: refreshed.body.access_token })).status).toBe(200);

    expect(h.sim.expireAccessTokens({ accountId: alice.id })).toEqual({ expired: 1 });
    expect((await h.api('/account', { token: refreshed.body.access_token })).status).toBe(401);
    const again = await token({
      grant_type: 'refresh_token',
      refresh_token: signed.refresh_token,
      client_secret: CLIENT.secret,
    });
    expect(again.status).toBe(200);

    expect(h.sim.revokeTokens({ accountId: alice.id }).revoked).toBeGreaterThan(0);
    expect((await h.api('/account', { token: again.body.access_token })).status).toBe(401);
    const revoked = await token({
      grant_type: 'refresh_token',
      refresh_token: signed.refresh_token,
      client_secret: CLIENT.secret,
    });
    expect([revoked.status, revoked.body.id]).toEqual([401, 'unauthorized']);
    // The API key still works unless it is regenerated too.
    expect((await h.api('/account', { token: alice.apiKey })).status).toBe(200);
    const { apiKey } = h.sim.revokeTokens({ accountId: alice.id, apiKey: true });
    expect((await h.api('/account', { token: alice.apiKey })).status).toBe(401);
    expect((await h.api('/account', { token: apiKey! })).status).toBe(200);
  });

  it('refuses a wrong client secret, an unknown grant type and a missing code', async () => {
    const code = (await approve('global')).searchParams.get('code')!;
    const wrong = await token({ grant_type: 'authorization_code', code, client_secret: 'nope-nope' });
    expect([wrong.status, wrong.body.id]).toEqual([401, 'unauthorized']);
    const mismatch = await token({
      grant_type: 'authorization_code',
      code,
      client_secret: CLIENT.secret,
      client_id: 'other',
    });
    expect(mismatch.status).toBe(401);
    const grant = await token({ grant_type: 'password', client_secret: CLIENT.secret });
    expect([grant.status, grant.body.id]).toEqual([400, 'bad_request']);
    const missing = await token({ grant_type: 'authorization_code', client_secret: CLIENT.secret });
    expect([missing.status, missing.body.id]).toEqual([422, 'invalid_params']);
    // Client credentials may come as HTTP Basic (RFC 6749 2.3.1); the unused code still works.
    const basic = Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64');
    const viaBasic = await token({ grant_type: 'authorization_code', code }, { authorization: `Basic ${basic}` });
    expect(viaBasic.status).toBe(200);
  });

  it('checks scopes: config vars need read-protected, webhooks need write, the account needs identity', async () => {
    const validator = herokuSchemaValidator();
    const hook = (n: number) => ({ include: ['api:release'], level: 'sync', url: `http://127.0.0.1:9/h${n}` });
    const cases: Array<[string, Array<[string, string, unknown, number]>]> = [
      [
        'read',
        [
          ['GET', `/apps/${appName}`, undefined, 200],
          ['GET', `/apps/${appName}/webhooks`, undefined, 200],
          ['GET', `/apps/${appName}/config-vars`, undefined, 403],
          ['GET', `/apps/${appName}/releases`, undefined, 403],
          ['POST', `/apps/${appName}/webhooks`, hook(1), 403],
          ['GET', '/account', undefined, 403],
        ],
      ],
      [
        'read-protected write',
        [
          ['GET', `/apps/${appName}/config-vars`, undefined, 200],
          ['GET', `/apps/${appName}/releases/1/config-vars`, undefined, 200],
          ['POST', `/apps/${appName}/webhooks`, hook(2), 201],
          ['PATCH', `/apps/${appName}/config-vars`, { FOO: 'x' }, 403],
        ],
      ],
      [
        'identity',
        [
          ['GET', '/account', undefined, 200],
          ['GET', '/apps', undefined, 403],
        ],
      ],
      [
        'global',
        [
          ['GET', '/account', undefined, 200],
          ['PATCH', `/apps/${appName}/config-vars`, { FOO: 'x' }, 200],
          ['POST', `/apps/${appName}/webhooks`, hook(3), 201],
        ],
      ],
    ];
    for (const [scope, calls] of cases) {
      const { access_token: access } = await signIn(scope);
      for (const [method, path, body, status] of calls) {
        const answer = await h.api(path, { method, token: access, ...(body !== undefined ? { body } : {}) });
        expect([scope, method, path, answer.status]).toEqual([scope, method, path, status]);
        if (status === 403) {
          expect(answer.body.id).toBe('forbidden');
          expect(validator.checkResponse({ method, path, status, body: answer.body }).ok).toBe(true);
        }
      }
    }
    // The rate-limit check needs no particular scope.
    expect((await h.api('/account/rate-limits', { token: (await signIn('read')).access_token })).status).toBe(200);
  });

  it('redirects a denial with access_denied, and creates an account from the form', async () => {
    const denied = await approve('global', alice.email, 'deny');
    expect(Object.fromEntries(denied.searchParams)).toEqual({ error: 'access_denied', state: 'st-123' });

    const html = await (await fetch(authorizeUrl('global'))).text();
    const fields = formFields(html, 'name="email"');
    fields.set('email', 'Bob@Example.com');
    fields.set('decision', 'allow');
    const answer = await fetch(`${h.url}/oauth/authorize`, { method: 'POST', body: fields, redirect: 'manual' });
    const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
    const bob = h.sim.accounts().find((a) => a.email === 'bob@example.com');
    expect(bob).toBeDefined();
    const signed = await token({ grant_type: 'authorization_code', code, client_secret: CLIENT.secret });
    expect(signed.body.user_id).toBe(bob!.id);
  });

  it('shows an error page for an unknown client, an unknown scope or no redirect URI; a registered URI wins', async () => {
    const pages = [
      `${h.url}/oauth/authorize?client_id=nope&response_type=code&redirect_uri=${encodeURIComponent(CALLBACK)}`,
      authorizeUrl('global superpowers'),
      `${h.url}/oauth/authorize?client_id=${CLIENT.id}&response_type=code&scope=global`,
      `${h.url}/oauth/authorize?client_id=${CLIENT.id}&response_type=token&scope=global&redirect_uri=${encodeURIComponent(CALLBACK)}`,
    ];
    for (const url of pages) expect((await fetch(url)).status).toBe(400);

    const registered = h.sim.registerOAuthClient({ redirectUri: 'http://127.0.0.1:2/registered' });
    const page = await (
      await fetch(
        `${h.url}/oauth/authorize?client_id=${registered.id}&response_type=code&scope=global&state=s&redirect_uri=${encodeURIComponent(CALLBACK)}`,
      )
    ).text();
    const fields = formFields(page, 'value="deny"');
    fields.set('decision', 'deny');
    const answer = await fetch(`${h.url}/oauth/authorize`, { method: 'POST', body: fields, redirect: 'manual' });
    expect(answer.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:2\/registered\?error=access_denied/);
  });
});
