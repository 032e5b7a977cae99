import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envFields, parseEnv, secretWarnings, strongSecrets } from './env.js';

const schema = z.object({
  REDIS_URL: envFields.redisUrl,
  PORT: envFields.port(3000),
  KEYS: envFields.list('key'),
  LOG_LEVEL: envFields.logLevel,
});

describe('parseEnv', () => {
  it('applies defaults and coerces numbers', () => {
    const result = parseEnv(schema, { REDIS_URL: 'redis://127.0.0.1:6379', KEYS: 'a, b,,c', PORT: '4000' });
    expect(result).toEqual({
      ok: true,
      env: { REDIS_URL: 'redis://127.0.0.1:6379', PORT: 4000, KEYS: ['a', 'b', 'c'], LOG_LEVEL: 'info' },
    });
  });

  it('names every missing variable', () => {
    const result = parseEnv(schema, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual(['REDIS_URL: is required but not set', 'KEYS: is required but not set']);
  });

  it('treats an empty or blank value as not set, so a blank secret never passes', () => {
    const result = parseEnv(schema, { REDIS_URL: 'redis://x', KEYS: '   ' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toEqual(['KEYS: is required but not set']);
  });

  it('explains a malformed value without echoing it', () => {
    const result = parseEnv(schema, { REDIS_URL: 'http://user:hunter2@host', KEYS: 'k', PORT: 'eighty' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.join('\n')).toMatch(/REDIS_URL: must be a redis/);
    expect(result.problems.join('\n')).toMatch(/PORT:/);
    expect(result.problems.join('\n')).not.toContain('hunter2');
  });
});

describe('strongSecrets', () => {
  const strong = () => randomBytes(32).toString('base64');
  const fields = { lists: ['KEYS'], tokens: ['TOKEN'] };
  const secretSchema = z
    .object({
      REDIS_URL: envFields.redisUrl,
      KEYS: envFields.list('key'),
      TOKEN: z.string(),
      LOCAL_DEVELOPMENT: envFields.localDevelopment,
    })
    .check(strongSecrets(fields));
  const base = { REDIS_URL: 'redis://127.0.0.1:6379' };

  it('accepts 32 random bytes for each secret, and warns about nothing', () => {
    const result = parseEnv(secretSchema, { ...base, KEYS: `${strong()},${strong()}`, TOKEN: strong() });
    expect(result.ok).toBe(true);
    if (result.ok) expect(secretWarnings({ env: result.env, fields })).toEqual([]);
  });

  it('refuses weak secrets in use and placeholders, naming the variable and the key, never the value', () => {
    const result = parseEnv(secretSchema, { KEYS: 'change-me-long-random-string', TOKEN: 'a-long-admin-token' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      'REDIS_URL: is required but not set',
      expect.stringMatching(
        /^KEYS: is a placeholder, not a secret: use 32 random bytes, e\.g\. `openssl rand -base64 32`/,
      ),
      expect.stringMatching(/^TOKEN: is too weak \(about \d+ bits; 256 needed/),
    ]);
    expect(result.problems.join('\n')).not.toMatch(/change-me-long|a-long-admin/);
    const second = parseEnv(secretSchema, { ...base, KEYS: `${strong()},change-me-admin-token`, TOKEN: strong() });
    expect(second).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/^KEYS: key 2 of 2 is a placeholder/)],
    });
  });

  it('accepts a weak older key, kept to finish a rotation, with a warning', () => {
    const result = parseEnv(secretSchema, { ...base, KEYS: `${strong()},old-weak-key`, TOKEN: strong() });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const warnings = secretWarnings({ env: result.env, fields });
    expect(warnings).toEqual([expect.stringMatching(/^KEYS: key 2 of 2 is weak; it only verifies old webhooks/)]);
    expect(warnings.join()).not.toContain('old-weak-key');
    expect(parseEnv(secretSchema, { ...base, KEYS: `old-weak-key,${strong()}`, TOKEN: strong() }).ok).toBe(false);
  });

  it('with LOCAL_DEVELOPMENT=true accepts weak secrets, with a warning, but never a placeholder', () => {
    const local = { ...base, KEYS: 'local-dev-signing-key', TOKEN: 'local-admin-token', LOCAL_DEVELOPMENT: 'true' };
    const result = parseEnv(secretSchema, local);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(secretWarnings({ env: result.env, fields })).toEqual([
        'LOCAL_DEVELOPMENT=true: weak local secrets accepted (KEYS, TOKEN); never expose this instance',
      ]);
    }
    expect(parseEnv(secretSchema, { ...local, TOKEN: 'change-me-admin-token' })).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/^TOKEN: is a placeholder/)],
    });
    expect(parseEnv(secretSchema, { ...local, LOCAL_DEVELOPMENT: 'false' }).ok).toBe(false);
    expect(parseEnv(secretSchema, { ...local, LOCAL_DEVELOPMENT: 'maybe' }).ok).toBe(false);
  });
});
