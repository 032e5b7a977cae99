import { createHmac, randomBytes } from 'node:crypto';
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import { constantTimeEqual } from './constant-time.js';

export const SESSION_COOKIE = 'hds_session';
export const CSRF_FIELD = '_csrf';

/** A browser session of the console: an id in a signed cookie, and the CSRF token bound to it. */
export interface ConsoleSession {
  id: string;
  csrfToken: string;
}

/** Signs cookies; derived from ADMIN_TOKEN, so changing the token ends every session. */
export function cookieSecret(adminToken: string): string {
  return createHmac('sha256', adminToken).update('heroku-db-sync admin cookies v1').digest('base64url');
}

export function cookieOptions(secure: boolean, extra: CookieOptions = {}): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', secure, path: '/', signed: true, ...extra };
}

function csrfTokenFor(secret: string, sessionId: string): string {
  return createHmac('sha256', secret).update(`csrf:${sessionId}`).digest('base64url');
}

export function getSession(res: Response): ConsoleSession {
  const session = res.locals.session as ConsoleSession | undefined;
  if (!session) throw new Error('session middleware did not run');
  return session;
}

/**
 * Gives every console request a session (a new one when the signed cookie is missing or forged). Runs after
 * `cookie-parser` with the same secret.
 */
export function sessionMiddleware(options: { secret: string; secure: boolean }): RequestHandler {
  return (req, res, next) => {
    const signed = (req.signedCookies as Record<string, unknown>)[SESSION_COOKIE];
    let id = typeof signed === 'string' && /^[A-Za-z0-9_-]{43}$/.test(signed) ? signed : undefined;
    if (!id) {
      id = randomBytes(32).toString('base64url');
      res.cookie(SESSION_COOKIE, id, cookieOptions(options.secure));
    }
    const session: ConsoleSession = { id, csrfToken: csrfTokenFor(options.secret, id) };
    res.locals.session = session;
    next();
  };
}

/** Whether a form post carries the CSRF token of this browser's session. */
export function csrfValid(req: Request, res: Response): boolean {
  const body = req.body as Record<string, unknown> | undefined;
  const token = body?.[CSRF_FIELD];
  return typeof token === 'string' && constantTimeEqual(token, getSession(res).csrfToken);
}
