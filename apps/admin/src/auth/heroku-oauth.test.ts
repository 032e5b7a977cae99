import { Keyring } from '@hds/core';
import { herokuAccounts, herokuLinks } from '@hds/db';
import { createHerokuSim, type HerokuSim, type SimAccount, type SimServer } from '@hds/heroku-sim';
import { queueNames } from '@hds/queue';
import { decideOnHeroku, testEncryptionKeys } from '@hds/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient } from '../test-support/browser-client.js';
import { startAdmin, type AdminHarness } from '../test-support/harness.js';

const CLIENT = { id: 'admin-test-client', secret: 'admin-test-client-secret' };

let sim: HerokuSim;
let simServer: SimServer;
let admin: AdminHarness;
let person: SimAccount;

beforeAll(async () => {
  sim = createHerokuSim({ oauthClients: [CLIENT] });
  simServer = await sim.listen();
  person = sim.createAccount({ email: 'person@example.com' });
  sim.createApp({ name: 'oauth-app-one', accountId: person.id });
  admin = await startAdmin({
    herokuApiUrl: simServer.url,
    oauth: { clientId: CLIENT.id, clientSecret: CLIENT.secret, oauthUrl: simServer.url, browserUrl: simServer.url },
  });
});
afterAll(async () => {
  await admin.close();
  await sim.close();
});

/** Starts the flow in `browser` and returns Heroku's authorize URL. */
async function start(browser: ConsoleClient, projectId?: string): Promise<URL> {
  const res = await browser.get(`/auth/heroku/start${projectId ? `?project=${projectId}` : ''}`);
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

/** What the person does on Heroku's page: allow (as `account`) or deny. Returns the callback URL. */
async function decide(authorize: URL, decision: 'allow' | 'deny', account: SimAccount = person): Promise<string> {
  const answer = await decideOnHeroku(authorize, decision, account.id);
  expect(answer.status).toBe(302);
  return answer.location!;
}

describe('sign in with Heroku', () => {
  it('started at another address than ADMIN_PUBLIC_URL (127.0.0.1 for localhost), moves there first and completes', async () => {
    const publicAdmin = await startAdmin({
      herokuApiUrl: simServer.url,
      publicUrl: (url) => url.replace('127.0.0.1', 'localhost'),
      oauth: { clientId: CLIENT.id, clientSecret: CLIENT.secret, oauthUrl: simServer.url, browserUrl: simServer.url },
    });
    try {
      const publicUrl = publicAdmin.url.replace('127.0.0.1', 'localhost');
      const project = await publicAdmin.createProject({ name: 'from-127' });
      // The browser on 127.0.0.1 is sent to the public address before any state is made...
      const hop = await new ConsoleClient(publicAdmin.url).get(`/auth/heroku/start?project=${project.id}`);
      expect(hop.status).toBe(302);
      expect(hop.headers.get('location')).toBe(`${publicUrl}/auth/heroku/start?project=${project.id}&via=public`);
      expect(hop.headers.getSetCookie().some((c) => c.startsWith('hds_oauth_state='))).toBe(false);
      // ...where the sign-in starts, with cookies of that host, and completes (a browser keeps cookies per host).
      const browser = new ConsoleClient(publicUrl);
      const started = await browser.get(hop.headers.get('location')!);
      expect(started.status).toBe(302);
      const authorize = new URL(started.headers.get('location')!);
      expect(authorize.searchParams.get('redirect_uri')).toBe(`${publicUrl}/auth/heroku/callback`);
      const done = await browser.get(await decide(authorize, 'allow'));
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toMatch(new RegExp(`^/projects/${project.id}\\?account=`));
      // Already at the public address (or marked as moved there): no second hop, whatever the Host header says.
      expect((await browser.get('/auth/heroku/start')).status).toBe(302);
      const marked = await new ConsoleClient(publicAdmin.url).get('/auth/heroku/start?via=public');
      expect(new URL(marked.headers.get('location')!).origin).toBe(simServer.url);
    } finally {
      await publicAdmin.close();
    }
  });

  it('round trip: start → authorize → callback → account stored with encrypted tokens → back to the project', async () => {
    const project = await admin.createProject({ name: 'oauth' });
    const browser = new ConsoleClient(admin.url);
    const authorize = await start(browser, project.id);
    expect(authorize.origin).toBe(simServer.url);
    expect(authorize.pathname).toBe('/oauth/authorize');
    expect(authorize.searchParams.get('client_id')).toBe(CLIENT.id);
    expect(authorize.searchParams.get('response_type')).toBe('code');
    expect(authorize.searchParams.get('scope')).toBe('identity read-protected write');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${admin.url}/auth/heroku/callback`);
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const callback = await decide(authorize, 'allow');
    expect(callback.startsWith(`${admin.url}/auth/heroku/callback?`)).toBe(true);
    const done = await browser.get(callback);
    expect(done.status).toBe(303);

    const [row] = await admin.database.client.db
      .select()
      .from(herokuAccounts)
      .where(eq(herokuAccounts.herokuUserId, person.id));
    expect(row).toMatchObject({
      email: 'person@example.com',
      authType: 'oauth',
      scope: 'identity read-protected write',
    });
    expect(done.headers.get('location')).toBe(`/projects/${project.id}?account=${row!.id}#sync`);

    // The tokens are stored encrypted: the row holds neither, and they decrypt to tokens Heroku accepts.
    const keyring = Keyring.fromSpecs(testEncryptionKeys);
    const access = keyring.decrypt(row!.accessTokenEncrypted, `account:${row!.id}:access`);
    const refresh = keyring.decrypt(row!.refreshTokenEncrypted!, `account:${row!.id}:refresh`);
    expect(access.length).toBeGreaterThan(10);
    expect(refresh.length).toBeGreaterThan(10);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(access);
    expect(stored).not.toContain(refresh);
    expect(row!.accessTokenExpiresAt!.getTime()).toBeGreaterThan(Date.now());
    const me = await fetch(`${simServer.url}/account`, {
      headers: { authorization: `Bearer ${access}`, accept: 'application/vnd.heroku+json; version=3' },
    });
    expect(await me.json()).toMatchObject({ id: person.id, email: 'person@example.com' });

    // The project page greets the account and lists its apps to pick from.
    const page = await browser.get(done.headers.get('location')!);
    expect(page.text).toContain('Signed in to Heroku as person@example.com.');
    expect(page.text).toContain('oauth-app-one');

    // The state is single-use: the same callback again is refused.
    const replay = await browser.get(callback);
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('Sign-in could not be completed');
  });

  it('refuses a callback in another browser session (state bound to the session)', async () => {
    const starter = new ConsoleClient(admin.url);
    const callback = await decide(await start(starter), 'allow');

    const other = new ConsoleClient(admin.url);
    await other.get('/');
    const withoutCookie = await other.get(callback);
    expect(withoutCookie.status).toBe(400);

    // Even with the state cookie copied over, the state belongs to the starter's session.
    other.cookies.set('hds_oauth_state', starter.cookies.get('hds_oauth_state')!);
    const copied = await other.get(callback);
    expect(copied.status).toBe(400);
    expect(copied.text).toContain('already been used or has expired');
  });

  it('refuses a state that does not match the cookie, and a forged code', async () => {
    const browser = new ConsoleClient(admin.url);
    const authorize = await start(browser);
    const tampered = await browser.get(`/auth/heroku/callback?code=x&state=${'A'.repeat(43)}`);
    expect(tampered.status).toBe(400);

    const fresh = await start(browser);
    const forged = await browser.get(
      `/auth/heroku/callback?code=forged-code&state=${fresh.searchParams.get('state')!}`,
    );
    expect(forged.status).toBe(400);
    expect(forged.text).toContain('Heroku did not accept the sign-in code');
    expect(authorize.searchParams.get('state')).not.toBe(fresh.searchParams.get('state'));
  });

  it('shows a readable page when the person denies access, and adds no account', async () => {
    const project = await admin.createProject({ name: 'oauth-denied' });
    const denier = sim.createAccount({ email: 'denier@example.com' });
    const browser = new ConsoleClient(admin.url);
    const callback = await decide(await start(browser, project.id), 'deny', denier);
    expect(new URL(callback).searchParams.get('error')).toBe('access_denied');
    const res = await browser.get(callback);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('Heroku access was not granted');
    expect(res.text).toContain(`href="/projects/${project.id}"`);
    const rows = await admin.database.client.db
      .select()
      .from(herokuAccounts)
      .where(eq(herokuAccounts.herokuUserId, denier.id));
    expect(rows).toHaveLength(0);
  });

  it('renders pages for a bad or unknown project', async () => {
    const browser = new ConsoleClient(admin.url);
    const bad = await browser.get('/auth/heroku/start?project=nope');
    expect(bad.status).toBe(400);
    const unknown = await browser.get('/auth/heroku/start?project=0b7cbb4e-4a87-4f55-9f4c-2a3f0e1c9d11');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('no such project');
  });

  it('re-arms links waiting for re-authorization and queues a reconcile for each', async () => {
    const returning = sim.createAccount({ email: 'returning@example.com' });
    const app = sim.createApp({ name: 'oauth-rearm', accountId: returning.id });
    const added = await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: returning.apiKey } });
    const project = await admin.createProject({ name: 'rearm', heroku: { accountId: added.json.id, app: app.name } });
    const linkId = project.sync.linkId!;
    await admin.database.client.db
      .update(herokuLinks)
      .set({ state: 'needs_reauth', lastError: 'Heroku no longer accepts this account' })
      .where(eq(herokuLinks.id, linkId));

    const browser = new ConsoleClient(admin.url);
    const done = await browser.get(await decide(await start(browser, project.id), 'allow', returning));
    expect(done.status).toBe(303);
    expect((await admin.api('GET', `/api/projects/${project.id}/heroku-sync`)).json).toMatchObject({
      state: 'active',
      lastError: null,
    });
    const jobs = await admin.producer.queue(queueNames.reconcile).getJobs(['waiting', 'delayed', 'active']);
    expect(jobs.map((j) => j.data as unknown)).toContainEqual({ linkId, reason: 'recovery' });
  });
});
