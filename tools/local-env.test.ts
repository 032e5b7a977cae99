import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv as parseDotenv } from 'node:util';
import { parseEnv, secretWarnings } from '@hds/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { adminSecrets, AdminEnv } from '../apps/admin/src/env.js';
import { IngressEnv } from '../apps/ingress/src/env.js';
import { WorkerEnv } from '../apps/worker/src/env.js';
import { appPorts, localEnv } from './local-env.js';

const apps = { admin: AdminEnv, ingress: IngressEnv, worker: WorkerEnv };

afterEach(() => vi.unstubAllEnvs());

describe('localEnv (npm start, npm run dev)', () => {
  it('wires the apps on their default ports', () => {
    const env = localEnv();
    expect(appPorts(env)).toEqual({ ingress: 3000, admin: 3001, worker: 3002, 'heroku-sim': 5000 });
    expect(env).toMatchObject({
      HEROKU_API_URL: 'http://127.0.0.1:5000',
      HEROKU_OAUTH_URL: 'http://127.0.0.1:5000',
      PUBLIC_WEBHOOK_BASE_URL: 'http://127.0.0.1:3000',
      ADMIN_PUBLIC_URL: 'http://localhost:3001',
      SIM_STATE_URL: 'postgres://postgres@127.0.0.1:5432/heroku_sim',
      FILE_DESTINATIONS_ROOT: join(process.cwd(), '.data/destination-files'),
    });
  });

  it("keeps heroku-sim's state beside the service's database", () => {
    vi.stubEnv('DATABASE_URL', 'postgres://me:pw@db.internal:6543/service');
    expect(localEnv().SIM_STATE_URL).toBe('postgres://me:pw@db.internal:6543/heroku_sim');
  });

  it('keeps them wired when an app moves to another port', () => {
    vi.stubEnv('INGRESS_PORT', '13000');
    vi.stubEnv('HEROKU_SIM_PORT', '15000');
    vi.stubEnv('ADMIN_PORT', '13001');
    const env = localEnv();
    expect(appPorts(env)).toEqual({ ingress: 13000, admin: 13001, worker: 3002, 'heroku-sim': 15000 });
    expect(env).toMatchObject({
      HEROKU_API_URL: 'http://127.0.0.1:15000',
      PUBLIC_WEBHOOK_BASE_URL: 'http://127.0.0.1:13000',
      ADMIN_PUBLIC_URL: 'http://localhost:13001',
    });
  });

  it('lets the shell override any value', () => {
    vi.stubEnv('PUBLIC_WEBHOOK_BASE_URL', 'https://hooks.example.com');
    expect(localEnv().PUBLIC_WEBHOOK_BASE_URL).toBe('https://hooks.example.com');
  });
});

// #17, defect 10: the .env.example placeholders passed every app's validation.
describe('secrets of the local settings and of .env.example', () => {
  it('.env.example as shipped is refused by each app, naming its placeholder secrets', () => {
    const example = parseDotenv(readFileSync(new URL('../.env.example', import.meta.url), 'utf8'));
    for (const [app, schema] of Object.entries(apps)) {
      const result = parseEnv(schema, example);
      expect(result.ok, app).toBe(false);
      const problems = result.ok ? [] : result.problems;
      expect(problems, app).toContainEqual(expect.stringMatching(/^WEBHOOK_SIGNING_KEYS: is a placeholder/));
      if (app === 'admin') expect(problems).toContainEqual(expect.stringMatching(/^ADMIN_TOKEN: is a placeholder/));
      // Even for local development: a placeholder is never a secret.
      expect(parseEnv(schema, { ...example, LOCAL_DEVELOPMENT: 'true' }).ok, app).toBe(false);
    }
  });

  it('the local settings run every app, marked LOCAL_DEVELOPMENT, with a warning', () => {
    const env = localEnv();
    expect(env.LOCAL_DEVELOPMENT).toBe('true');
    for (const [app, schema] of Object.entries(apps)) expect(parseEnv(schema, env).ok, app).toBe(true);
    const admin = parseEnv(AdminEnv, env);
    expect(admin.ok && secretWarnings({ env: admin.env, fields: adminSecrets })).toEqual([
      'LOCAL_DEVELOPMENT=true: weak local secrets accepted (WEBHOOK_SIGNING_KEYS, ADMIN_TOKEN); never expose this instance',
    ]);
  });

  it('are not marked for local development once both secrets are your own', () => {
    vi.stubEnv('WEBHOOK_SIGNING_KEYS', randomBytes(32).toString('base64'));
    expect(localEnv().LOCAL_DEVELOPMENT).toBe('true');
    vi.stubEnv('ADMIN_TOKEN', randomBytes(32).toString('base64'));
    const env = localEnv();
    expect(env.LOCAL_DEVELOPMENT).toBeUndefined();
    for (const [app, schema] of Object.entries(apps)) expect(parseEnv(schema, env).ok, app).toBe(true);
  });
});
