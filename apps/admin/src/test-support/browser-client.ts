import { BrowserSession } from '@hds/testkit';
import { basicAuth } from './harness.js';

/**
 * A browser on the console (testkit's `BrowserSession`: a cookie jar, no redirect following), signed in with the
 * admin's Basic auth unless told otherwise, and able to read the CSRF token of the last page.
 */
export class ConsoleClient extends BrowserSession {
  constructor(baseUrl: string, authorization: string | null = basicAuth()) {
    super(baseUrl, authorization);
  }

  /** The CSRF token of a rendered console page. */
  static csrfToken(page: string): string {
    const match = /name="_csrf" value="([^"]+)"/.exec(page);
    if (!match?.[1]) throw new Error('no CSRF token on the page');
    return match[1];
  }
}
