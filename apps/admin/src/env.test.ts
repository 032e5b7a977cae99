import { parseEnv } from '@hds/core';
import { runSourceEntrypoint } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { AdminEnv } from './env.js';

const complete = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  PUBLIC_WEBHOOK_BASE_URL: 'https://hooks.example.com',
  WEBHOOK_SIGNING_KEYS: 'k',
  ENCRYPTION_KEYS: `k1:${Buffer.alloc(32).toString('base64')}`,
  ADMIN_TOKEN: 'a-long-admin-token',
};

describe('admin env', () => {
  it('accepts a complete environment and defaults the port to 3001', () => {
    expect(parseEnv(AdminEnv, complete)).toMatchObject({ ok: true, env: { PORT: 3001 } });
  });

  it('refuses a short ADMIN_TOKEN', () => {
    expect(parseEnv(AdminEnv, { ...complete, ADMIN_TOKEN: 'short' })).toMatchObject({
      ok: false,
      problems: ['ADMIN_TOKEN: must be at least 12 characters'],
    });
  });

  it('exits 1 at start-up naming the missing variable', async () => {
    const { ADMIN_TOKEN: _omitted, ...partial } = complete;
    const result = await runSourceEntrypoint('apps/admin/src/main.ts', partial);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ADMIN_TOKEN: is required but not set');
  });
});
