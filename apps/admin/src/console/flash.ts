import type { Request, Response } from 'express';
import { cookieOptions } from '../auth/session.js';
import type { Flash } from './layout.js';

const FLASH_COOKIE = 'hds_flash';

/** Leaves a message for the next page (post/redirect/get). */
export function setFlash(res: Response, flash: Flash, secure: boolean): void {
  res.cookie(FLASH_COOKIE, JSON.stringify(flash), cookieOptions(secure, { maxAge: 60_000 }));
}

/** Reads and clears the message left by the previous request. */
export function takeFlash(req: Request, res: Response, secure: boolean): Flash | undefined {
  const rawValue = (req.signedCookies as Record<string, unknown>)[FLASH_COOKIE];
  if (rawValue === undefined) return undefined;
  res.clearCookie(FLASH_COOKIE, cookieOptions(secure));
  if (typeof rawValue !== 'string') return undefined;
  try {
    const parsed = JSON.parse(rawValue) as Partial<Flash>;
    if ((parsed.kind === 'ok' || parsed.kind === 'error') && typeof parsed.message === 'string') {
      return { kind: parsed.kind, message: parsed.message.slice(0, 500) };
    }
  } catch {
    // A malformed flash is dropped.
  }
  return undefined;
}
