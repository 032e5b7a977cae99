import { basicAuth } from './harness.js';

/**
 * A minimal HTTP "browser" for console tests: Basic auth, a cookie jar, no redirect following (tests look at
 * each hop), and the CSRF token read from the last page.
 */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    private readonly authorization: string | null = basicAuth(),
  ) {}

  private remember(res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
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

  async get(path: string): Promise<{ status: number; headers: Headers; text: string }> {
    const url = path.startsWith('http') ? path : `${this.baseUrl}${path}`;
    const res = await fetch(url, { headers: this.headers(), redirect: 'manual' });
    this.remember(res);
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  async post(path: string, form: Record<string, string>): Promise<{ status: number; headers: Headers; text: string }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/x-www-form-urlencoded' }),
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
    this.remember(res);
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  /** The CSRF token of a rendered console page. */
  static csrfToken(page: string): string {
    const match = /name="_csrf" value="([^"]+)"/.exec(page);
    if (!match?.[1]) throw new Error('no CSRF token on the page');
    return match[1];
  }
}
