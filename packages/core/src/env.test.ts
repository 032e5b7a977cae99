import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envFields, parseEnv } from './env.js';

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
