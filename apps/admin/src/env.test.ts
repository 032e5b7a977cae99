import { randomBytes } from 'node:crypto';
import { parseEnv } from '@hds/core';
import { runSourceEntrypoint } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { AdminEnv } from './env.js';

const complete = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  PUBLIC_WEBHOOK_BASE_URL: 'https://hooks.example.com',
  WEBHOOK_SIGNING_KEYS: randomBytes(32).toString('base64'),
  ENCRYPTION_KEYS: `k1:${Buffer.alloc(32).toString('base64')}`,
  ADMIN_TOKEN: randomBytes(32).toString('base64url'),
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
      problems: ['ADMIN_TOKEN: must be at least 12 characters', expect.stringMatching(/^ADMIN_TOKEN: is too weak/)],
    });
  });

  // #17, defect 10: the .env.example placeholder and any 12 characters passed.
  it('refuses the .env.example ADMIN_TOKEN and a weak one, unless LOCAL_DEVELOPMENT=true (not for a placeholder)', () => {
    for (const token of ['change-me-admin-token', 'a-long-admin-token', 'local-admin-token']) {
      const result = parseEnv(AdminEnv, { ...complete, ADMIN_TOKEN: token });
      expect(result.ok ? [] : result.problems, token).toEqual([
        expect.stringMatching(/^ADMIN_TOKEN: (is a placeholder|is too weak).*openssl rand -base64 32/),
      ]);
    }
    const local = { ...complete, LOCAL_DEVELOPMENT: 'true' };
    expect(parseEnv(AdminEnv, { ...local, ADMIN_TOKEN: 'local-admin-token' }).ok).toBe(true);
    expect(parseEnv(AdminEnv, { ...local, ADMIN_TOKEN: 'change-me-admin-token' }).ok).toBe(false);
  });

  it('exits 1 at start-up naming the missing variable', async () => {
    const { ADMIN_TOKEN: _omitted, ...partial } = complete;
    const result = await runSourceEntrypoint('apps/admin/src/main.ts', partial);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ADMIN_TOKEN: is required but not set');
  });
});
