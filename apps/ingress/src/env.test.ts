import { parseEnv } from '@hds/core';
import { runSourceEntrypoint } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { IngressEnv } from './env.js';

describe('ingress env', () => {
  it('needs REDIS_URL and WEBHOOK_SIGNING_KEYS, defaults the rest', () => {
    const result = parseEnv(IngressEnv, { REDIS_URL: 'redis://127.0.0.1:6379', WEBHOOK_SIGNING_KEYS: 'new,old' });
    expect(result).toMatchObject({
      ok: true,
      env: { PORT: 3000, WEBHOOK_SIGNING_KEYS: ['new', 'old'], LOG_LEVEL: 'info' },
    });
  });

  it('exits 1 at start-up naming the missing variable', async () => {
    const result = await runSourceEntrypoint('apps/ingress/src/main.ts', { WEBHOOK_SIGNING_KEYS: 'k' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('REDIS_URL: is required but not set');
  });
});
