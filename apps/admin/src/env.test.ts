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

  it('derives the OAuth redirect base and browser URL from the other settings', () => {
    expect(parseEnv(AdminEnv, { ...complete, PORT: '4100' })).toMatchObject({
      ok: true,
      env: { ADMIN_PUBLIC_URL: 'http://localhost:4100', HEROKU_OAUTH_BROWSER_URL: 'https://id.heroku.com' },
    });
    expect(
      parseEnv(AdminEnv, {
        ...complete,
        ADMIN_PUBLIC_URL: 'https://admin.example.com/',
        HEROKU_OAUTH_URL: 'http://heroku-sim:5000',
        HEROKU_OAUTH_BROWSER_URL: 'http://localhost:5000',
      }),
    ).toMatchObject({
      ok: true,
      env: { ADMIN_PUBLIC_URL: 'https://admin.example.com', HEROKU_OAUTH_BROWSER_URL: 'http://localhost:5000' },
    });
  });

  it('wants the OAuth client id and secret together', () => {
    expect(parseEnv(AdminEnv, { ...complete, HEROKU_OAUTH_CLIENT_ID: 'id' })).toMatchObject({
      ok: false,
      problems: [
        'HEROKU_OAUTH_CLIENT_SECRET: HEROKU_OAUTH_CLIENT_ID and HEROKU_OAUTH_CLIENT_SECRET are set together or not at all',
      ],
    });
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
