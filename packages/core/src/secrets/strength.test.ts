import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPlaceholder, secretWeakness } from './strength.js';

describe('secretWeakness', () => {
  // A random key fails the pattern checks with a probability below 10⁻⁶ (see strength.ts): 200 keys here.
  it('accepts 32 random bytes in the forms people generate them (openssl rand -base64 / -hex 32)', () => {
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(32);
      for (const secret of [
        bytes.toString('base64'),
        bytes.toString('base64url'),
        bytes.toString('hex'),
        bytes.toString('hex').toUpperCase(),
      ]) {
        expect(secretWeakness(secret), secret).toBeUndefined();
      }
    }
  });

  it('refuses anything of 30 printable characters or fewer (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 30 }), (short) => {
        expect(secretWeakness(short)).toBeDefined();
      }),
    );
  });

  const weak: Array<[string, string, RegExp]> = [
    ['the .env.example signing key', 'change-me-long-random-string', /placeholder/],
    ['the .env.example admin token', 'change-me-admin-token', /placeholder/],
    ['a placeholder padded to length', `replace-with-${randomBytes(32).toString('hex')}`, /placeholder/],
    ['the local signing key', 'local-dev-signing-key', /too weak/],
    ['the local admin token', 'local-admin-token', /too weak/],
    ['the old admin-token minimum of 12 characters', 'abcdefghijk1', /too weak/],
    ['24 random bytes in hex (192 bits)', randomBytes(24).toString('hex'), /too weak \(about 192 bits/],
    ['31 random bytes in base64', randomBytes(31).toString('base64url'), /too weak/],
    ['one character repeated', 'a'.repeat(64), /too weak|different characters/],
    ['a short word repeated', 'hunter2!'.repeat(8), /different characters|repeats/],
    ['a longer phrase repeated', 'CorrectHorseBattery'.repeat(3), /repeats/],
    ['the alphabet', 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', /consecutive/],
    ['a keyboard walk of digits', `${randomBytes(30).toString('base64url')}987654321`, /consecutive/],
  ];
  for (const [name, secret, reason] of weak) {
    it(`refuses ${name}, without quoting it`, () => {
      const weakness = secretWeakness(secret);
      expect(weakness).toMatch(reason);
      expect(weakness).not.toContain(secret);
    });
  }

  it('knows the placeholders of .env.example and placeholder wording', () => {
    expect(isPlaceholder('change-me-long-random-string')).toBe(true);
    expect(isPlaceholder(' CHANGE-ME-ADMIN-TOKEN ')).toBe(true);
    expect(isPlaceholder('your-secret-here')).toBe(true);
    expect(isPlaceholder(randomBytes(32).toString('base64'))).toBe(false);
    expect(isPlaceholder('local-admin-token')).toBe(false);
  });
});
