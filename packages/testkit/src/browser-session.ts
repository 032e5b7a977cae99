/** One answer as a browser test sees it: nothing followed, the body read. */
export interface BrowserAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A minimal HTTP "browser" for tests of the console and of "Sign in with Heroku": an `authorization` header sent
 * with every request (the console's Basic auth), a cookie jar, and no redirect following (tests look at each hop).
 * Paths are resolved against `baseUrl`; absolute URLs (Heroku's pages, a callback) are used as they are.
 */
export class BrowserSession {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    private readonly authorization: string | null,
  ) {}

  get(pathOrUrl: string): Promise<BrowserAnswer> {
    return this.send(pathOrUrl, { method: 'GET', headers: this.headers() });
  }

  post(pathOrUrl: string, form: Record<string, string>): Promise<BrowserAnswer> {
    return this.send(pathOrUrl, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/x-www-form-urlencoded' }),
      body: new URLSearchParams(form).toString(),
    });
  }

  private async send(pathOrUrl: string, init: RequestInit): Promise<BrowserAnswer> {
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const res = await fetch(url, { ...init, redirect: 'manual' });
    this.remember(res);
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  private remember(res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { ...extra };
    if (this.authorization) headers.authorization = this.authorization;
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return headers;
  }
}

/**
 * What a person does on heroku-sim's authorize page: allow (as `accountId`) or deny, by posting its form with the
 * fields of the `authorize` URL the console redirected to. Returns the sim's answer; a 302's `location` is the
 * console's callback.
 */
export async function decideOnHeroku(
  authorize: URL,
  decision: 'allow' | 'deny',
  accountId: string,
): Promise<{ status: number; location: string | null; text: string }> {
  const form = new URLSearchParams({
    client_id: authorize.searchParams.get('client_id') ?? '',
    response_type: 'code',
    scope: authorize.searchParams.get('scope') ?? '',
    state: authorize.searchParams.get('state') ?? '',
    redirect_uri: authorize.searchParams.get('redirect_uri') ?? '',
    decision,
    account_id: accountId,
  });
  const res = await fetch(`${authorize.origin}/oauth/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    redirect: 'manual',
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}
