import type { SimAccount, Stack } from '@hds/testkit';

/** Heroku's decision page, as a person's browser submits it: allow, as `account`. */
async function allowOnHeroku(authorize: URL, account: SimAccount): Promise<string> {
  const form = new URLSearchParams({
    client_id: authorize.searchParams.get('client_id') ?? '',
    response_type: 'code',
    scope: authorize.searchParams.get('scope') ?? '',
    state: authorize.searchParams.get('state') ?? '',
    redirect_uri: authorize.searchParams.get('redirect_uri') ?? '',
    decision: 'allow',
    account_id: account.id,
  });
  const res = await fetch(`${authorize.origin}/oauth/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    redirect: 'manual',
  });
  const callback = res.headers.get('location');
  if (res.status !== 302 || !callback)
    throw new Error(`Heroku's authorize answered ${res.status}: ${await res.text()}`);
  return callback;
}

/**
 * "Sign in with Heroku" on the stack's console, as `account`: the console's start (its session cookie holds the
 * OAuth state), Heroku's authorize page, the console's callback, which stores the account. Returns the stored
 * account's id.
 */
export async function signInWithHeroku(s: Stack, account: SimAccount): Promise<string> {
  const authorization = `Basic ${Buffer.from(`admin:${s.adminToken}`).toString('base64')}`;
  const cookies = new Map<string, string>();
  const visit = async (url: string) => {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { authorization, cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const header of res.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return { status: res.status, location: res.headers.get('location'), text: await res.text() };
  };

  const start = await visit(`${s.adminUrl}/auth/heroku/start`);
  if (start.status !== 302 || !start.location) throw new Error(`sign-in start answered ${start.status}`);
  const callback = await allowOnHeroku(new URL(start.location), account);
  const done = await visit(callback);
  if (done.status !== 303) throw new Error(`the sign-in callback answered ${done.status}: ${done.text}`);
  const stored = (await s.admin.listAccounts()).find((a) => a.email === account.email);
  if (!stored) throw new Error(`the sign-in stored no account for ${account.email}`);
  return stored.id;
}
