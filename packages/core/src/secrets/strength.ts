/**
 * Whether a configured secret (`WEBHOOK_SIGNING_KEYS`, `ADMIN_TOKEN`) is strong enough: 32 random bytes' worth.
 *
 * A string cannot prove it is random, so the rule estimates from its alphabet and refuses what people type:
 * - bits = length × bits per character of the smallest usual alphabet holding all its characters: hex 4,
 *   base64 / base64url (`=` padding not counted) 6, any other printable ASCII 6.5. At least 256 bits: 64 hex
 *   digits, 43 base64 characters (`openssl rand -base64 32` prints 44), or 40 other characters;
 * - at least 10 different characters, no stretch of 8 or more characters that appears twice, and no run of 8
 *   consecutive characters (`abcdefgh`, `98765432`): a random string of that length fails these with a
 *   probability below 10⁻⁶, a typed or repeated one nearly always;
 * - not a known placeholder (the `.env.example` values, `change-me`, `replace-with`, `placeholder`, `example`).
 * Messages never quote the secret.
 */
export function secretWeakness(secret: string): string | undefined {
  if (isPlaceholder(secret)) return 'is a placeholder, not a secret';
  const bits = estimatedBits(secret);
  if (bits < 256) {
    return (
      `is too weak (about ${Math.floor(bits)} bits; 256 needed: 64 hex digits, 43 base64 characters ` +
      'or 40 other characters)'
    );
  }
  if (new Set(secret).size < 10) return 'uses fewer than 10 different characters';
  if (hasRepeatedStretch(secret, 8)) return 'repeats a stretch of 8 or more characters';
  if (hasConsecutiveRun(secret, 8)) return 'holds a run of 8 consecutive characters';
  return undefined;
}

/** Placeholders shipped in `.env.example` (and earlier versions of it): refused everywhere, even for local use. */
const KNOWN_PLACEHOLDERS = new Set(['change-me-long-random-string', 'change-me-admin-token']);
const PLACEHOLDER_WORDS = /change[-_ ]?me|replace[-_ ]?(me|with)|placeholder|example|your[-_ ]?(key|token|secret)/i;

/** A value from `.env.example` or anything worded like a placeholder. */
export function isPlaceholder(secret: string): boolean {
  return KNOWN_PLACEHOLDERS.has(secret.trim().toLowerCase()) || PLACEHOLDER_WORDS.test(secret);
}

const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const PRINTABLE = /^[\x20-\x7e]+$/;

function estimatedBits(secret: string): number {
  if (HEX.test(secret)) return secret.length * 4;
  if (BASE64.test(secret)) return secret.replace(/=+$/, '').length * 6;
  if (PRINTABLE.test(secret)) return secret.length * 6.5;
  // Beyond ASCII: count code points at the printable-ASCII rate rather than guess at a larger alphabet.
  return [...secret].length * 6.5;
}

function hasRepeatedStretch(secret: string, length: number): boolean {
  const seen = new Set<string>();
  for (let at = 0; at + length <= secret.length; at++) {
    const stretch = secret.slice(at, at + length);
    if (seen.has(stretch)) return true;
    seen.add(stretch);
  }
  return false;
}

function hasConsecutiveRun(secret: string, length: number): boolean {
  let up = 1;
  let down = 1;
  for (let at = 1; at < secret.length; at++) {
    const step = secret.charCodeAt(at) - secret.charCodeAt(at - 1);
    up = step === 1 ? up + 1 : 1;
    down = step === -1 ? down + 1 : 1;
    if (up >= length || down >= length) return true;
  }
  return false;
}
