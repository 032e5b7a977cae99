// heroku-sim with docker-compose.yml's seed and OAuth client: the seeded account can be added in the console by its
// API key and by "Sign in with Heroku" through the browser URL, as a person following the README would.
import { BrowserSession } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { loadCompose } from './support/compose-file.js';
import { useStack } from './support/use-stack.js';

const sim = loadCompose().services['heroku-sim']?.environment ?? {};
const seed = {
  email: sim.SIM_SEED_EMAIL!,
  apiKey: sim.SIM_SEED_API_KEY!,
  apps: sim.SIM_SEED_APPS!.split(','),
};

const stack = useStack({
  workers: 0,
  oauthClient: { id: sim.SIM_OAUTH_CLIENT_ID!, secret: sim.SIM_OAUTH_CLIENT_SECRET! },
  env: {
    'heroku-sim': { SIM_SEED_EMAIL: seed.email, SIM_SEED_API_KEY: seed.apiKey, SIM_SEED_APPS: sim.SIM_SEED_APPS! },
  },
});

const unescape = (value: string) =>
  value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The form holding the button for `email` on heroku-sim's authorize page: its action and fields. */
function allowFormFor(html: string, email: string): { action: string; fields: Record<string, string> } {
  const form = [...html.matchAll(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/g)].find((m) =>
    m[2]!.includes(`data-account-email="${email}"`),
  );
  if (!form) throw new Error(`no "Allow as ${email}" on the page:\n${html}`);
  const fields: Record<string, string> = { decision: 'allow' };
  for (const input of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[input[1]!] = unescape(input[2]!);
  }
  return { action: unescape(form[1]!), fields };
}

describe('the docker-compose seed', () => {
  it('adds the seeded account by its API key: its apps are listed', async () => {
    const s = stack();
    const account = await s.admin.addAccount(seed.apiKey);
    expect(account.email).toBe(seed.email);
    expect((await s.admin.listApps(account.id)).map((a) => a.name).sort()).toEqual([...seed.apps].sort());
  });

  it('adds the seeded account by "Sign in with Heroku" through the browser URL', async () => {
    const s = stack();
    const browser = new BrowserSession(s.adminUrl, `Basic ${Buffer.from(`admin:${s.adminToken}`).toString('base64')}`);

    const start = await browser.get('/auth/heroku/start');
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('location')!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${s.simUrl}/oauth/authorize`);
    expect(authorize.searchParams.get('client_id')).toBe(sim.SIM_OAUTH_CLIENT_ID);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${s.adminUrl}/auth/heroku/callback`);

    const page = await browser.get(authorize.href);
    expect(page.status).toBe(200);
    const { action, fields } = allowFormFor(page.text, seed.email);
    const approved = await browser.post(action, fields);
    expect(approved.status).toBe(302);
    const callback = new URL(approved.headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(`${s.adminUrl}/auth/heroku/callback`);
    expect(callback.searchParams.get('code')).toBeTruthy();

    const done = await browser.get(callback.href);
    expect(done.status, done.text).toBe(303);
    expect(done.headers.get('location')).toBe('/');
    const accounts = await s.admin.listAccounts();
    const signedIn = accounts.find((a) => a.email === seed.email);
    expect(signedIn).toBeDefined();
    expect((await s.admin.listApps(signedIn!.id)).map((a) => a.name).sort()).toEqual([...seed.apps].sort());
  });
});
