import { randomBytes } from 'node:crypto';
import { parseEnv } from '@hds/core';
import { runSourceEntrypoint } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { ReencryptEnv, WorkerEnv } from './env.js';

const complete = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  PUBLIC_WEBHOOK_BASE_URL: 'https://hooks.example.com',
  WEBHOOK_SIGNING_KEYS: randomBytes(32).toString('base64'),
  ENCRYPTION_KEYS: `k1:${Buffer.alloc(32).toString('base64')}`,
};

describe('worker env', () => {
  it('defaults Heroku to the real endpoints and the port to 3002', () => {
    expect(parseEnv(WorkerEnv, complete)).toMatchObject({
      ok: true,
      env: { HEROKU_API_URL: 'https://api.heroku.com', HEROKU_OAUTH_URL: 'https://id.heroku.com', PORT: 3002 },
    });
  });

  it('exits 1 at start-up naming the missing variable', async () => {
    const { ENCRYPTION_KEYS: _omitted, ...partial } = complete;
    const result = await runSourceEntrypoint('apps/worker/src/main.ts', partial);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ENCRYPTION_KEYS: is required but not set');
  });

  it('refuses the .env.example signing key at start-up, before connecting anywhere', async () => {
    const result = await runSourceEntrypoint('apps/worker/src/main.ts', {
      ...complete,
      WEBHOOK_SIGNING_KEYS: 'change-me-long-random-string',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('WEBHOOK_SIGNING_KEYS: is a placeholder, not a secret');
  });

  it('accepts weak keys only with LOCAL_DEVELOPMENT=true; keys:reencrypt needs none', () => {
    expect(parseEnv(WorkerEnv, { ...complete, WEBHOOK_SIGNING_KEYS: 'local-dev-signing-key' }).ok).toBe(false);
    expect(
      parseEnv(WorkerEnv, { ...complete, WEBHOOK_SIGNING_KEYS: 'local-dev-signing-key', LOCAL_DEVELOPMENT: 'true' }),
    ).toMatchObject({ ok: true, env: { LOCAL_DEVELOPMENT: true } });
    const { WEBHOOK_SIGNING_KEYS: _omitted, ...reencrypt } = complete;
    expect(parseEnv(ReencryptEnv, reencrypt).ok).toBe(true);
  });
});
