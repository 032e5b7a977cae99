import { randomBytes, randomUUID } from 'node:crypto';

export const newId = (): string => randomUUID();

/** Lowercase letters and digits, `length` of them. */
export function randomAlnum(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** Heroku's current API keys and OAuth tokens look like `HRKU-AA…`. */
export const newToken = (): string => `HRKU-AA${randomBytes(30).toString('base64url')}`;
