import { parseEnv } from '@hds/core';
import { runSourceEntrypoint } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { WorkerEnv } from './env.js';

const complete = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  PUBLIC_WEBHOOK_BASE_URL: 'https://hooks.example.com',
  WEBHOOK_SIGNING_KEYS: 'k',
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
});
