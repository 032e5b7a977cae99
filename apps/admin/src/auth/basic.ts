import type { RequestHandler } from 'express';
import { constantTimeEqual } from './constant-time.js';

export const BASIC_USER = 'admin';

/** Reads `Authorization: Basic base64(user:password)`. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The console, sign-in and Bull Board: HTTP Basic, user `admin`, password `ADMIN_TOKEN`. Browsers show their
 * login prompt on the 401 challenge.
 */
export function requireBasic(adminToken: string): RequestHandler {
  return (req, res, next) => {
    const credentials = parseBasic(req.headers.authorization);
    // Both parts are compared, always, so a wrong user name takes as long as a wrong password.
    const userOk = constantTimeEqual(credentials?.user ?? '', BASIC_USER);
    const passwordOk = constantTimeEqual(credentials?.password ?? '', adminToken);
    if (credentials && userOk && passwordOk) {
      next();
      return;
    }
    res
      .status(401)
      .set('www-authenticate', 'Basic realm="heroku-db-sync", charset="UTF-8"')
      .set('cache-control', 'no-store')
      .type('text/plain')
      .send('Sign in as user "admin" with the ADMIN_TOKEN as password.\n');
  };
}
