import { BrowserSession, decideOnHeroku, type SimAccount, type Stack } from '@hds/testkit';

/**
 * "Sign in with Heroku" on the stack's console, as `account`: the console's start (its session cookie holds the
 * OAuth state), Heroku's authorize page (allow), the console's callback, which stores the account. Returns the
 * stored account's id.
 */
export async function signInWithHeroku(s: Stack, account: SimAccount): Promise<string> {
  const browser = new BrowserSession(s.adminUrl, `Basic ${Buffer.from(`admin:${s.adminToken}`).toString('base64')}`);
  const start = await browser.get('/auth/heroku/start');
  const authorize = start.headers.get('location');
  if (start.status !== 302 || !authorize) throw new Error(`sign-in start answered ${start.status}`);
  const allowed = await decideOnHeroku(new URL(authorize), 'allow', account.id);
  if (allowed.status !== 302 || !allowed.location)
    throw new Error(`Heroku's authorize answered ${allowed.status}: ${allowed.text}`);
  const done = await browser.get(allowed.location);
  if (done.status !== 303) throw new Error(`the sign-in callback answered ${done.status}: ${done.text}`);
  const stored = (await s.admin.listAccounts()).find((a) => a.email === account.email);
  if (!stored) throw new Error(`the sign-in stored no account for ${account.email}`);
  return stored.id;
}
