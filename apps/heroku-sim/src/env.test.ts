import { createLogger, parseEnv } from '@hds/core';
import { runSourceEntrypoint } from '@hds/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { SimEnv } from './env.js';
import { createHerokuSim, type HerokuSim } from './sim.js';
import { standaloneOptions } from './standalone.js';

const localEnv = {
  PORT: '5000',
  SIM_PUBLIC_URL: 'http://localhost:5000',
  SIM_OAUTH_CLIENT_ID: 'local-oauth-client',
  SIM_OAUTH_CLIENT_SECRET: 'local-oauth-client-secret',
  SIM_SEED_EMAIL: 'developer@example.com',
  SIM_SEED_API_KEY: 'local-heroku-api-key',
  SIM_SEED_APPS: 'sushi-prod,sushi-staging',
};

describe('heroku-sim env', () => {
  let sim: HerokuSim | undefined;
  afterEach(() => sim?.close());

  it('needs nothing and defaults PORT to 5000', () => {
    expect(parseEnv(SimEnv, {})).toMatchObject({ ok: true, env: { PORT: 5000, LOG_LEVEL: 'info' } });
  });

  it('reads the seed and the OAuth client that docker-compose and tools/local-env.js pass', async () => {
    const result = parseEnv(SimEnv, localEnv);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.env.SIM_SEED_APPS).toEqual(['sushi-prod', 'sushi-staging']);
    sim = createHerokuSim(standaloneOptions(result.env, createLogger({ app: 'test', level: 'silent' })));
    const server = await sim.listen();
    const apps = await fetch(`${server.url}/apps`, { headers: { authorization: 'Bearer local-heroku-api-key' } });
    expect(((await apps.json()) as Array<{ name: string }>).map((a) => a.name).sort()).toEqual([
      'sushi-prod',
      'sushi-staging',
    ]);
    const page = await fetch(
      `${server.url}/oauth/authorize?client_id=local-oauth-client&response_type=code&scope=global&redirect_uri=http://localhost:3001/cb`,
    );
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('action="http://localhost:5000/oauth/authorize"');
  });

  it('names what is inconsistent', () => {
    const result = parseEnv(SimEnv, { SIM_OAUTH_CLIENT_ID: 'x', SIM_SEED_APPS: 'a-app', SIM_PUBLIC_URL: 'ftp://x' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const problems = result.problems.join('\n');
    expect(problems).toMatch(/SIM_PUBLIC_URL/);
    expect(problems).toMatch(/SIM_OAUTH_CLIENT_SECRET/);
    expect(problems).toMatch(/SIM_SEED_EMAIL/);
  });

  it('exits 1 at start-up naming the bad variable', async () => {
    const result = await runSourceEntrypoint('apps/heroku-sim/src/main.ts', { PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('PORT:');
  });
});
