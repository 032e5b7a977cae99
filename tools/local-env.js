// The environment `npm start`, `npm run dev` and `npm run demo` give the four apps on a plain machine:
// local Redis and Postgres, with Heroku played by heroku-sim. Values from `.env` (see .env.example)
// or the shell take precedence. These keys are for local development only.
import { existsSync } from 'node:fs';

export const localDefaults = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/heroku_db_sync',
  REDIS_URL: 'redis://127.0.0.1:6379',
  HEROKU_API_URL: 'http://127.0.0.1:5000',
  HEROKU_OAUTH_URL: 'http://127.0.0.1:5000',
  HEROKU_OAUTH_CLIENT_ID: 'local-oauth-client',
  HEROKU_OAUTH_CLIENT_SECRET: 'local-oauth-client-secret',
  PUBLIC_WEBHOOK_BASE_URL: 'http://127.0.0.1:3000',
  WEBHOOK_SIGNING_KEYS: 'local-dev-signing-key',
  ENCRYPTION_KEYS: 'local:bG9jYWwtZGV2LW9ubHktZW5jcnlwdGlvbi1rZXkhISE=',
  ADMIN_TOKEN: 'local-admin-token',
  SIM_OAUTH_CLIENT_ID: 'local-oauth-client',
  SIM_OAUTH_CLIENT_SECRET: 'local-oauth-client-secret',
  SIM_SEED_EMAIL: 'developer@example.com',
  SIM_SEED_API_KEY: 'local-heroku-api-key',
  SIM_SEED_APPS: 'sushi-prod,sushi-staging',
  LOG_FORMAT: 'pretty',
};

export const localPorts = { ingress: 3000, admin: 3001, worker: 3002, 'heroku-sim': 5000 };

/** The shell's environment over `.env` over the local defaults. */
export function localEnv() {
  const fromFile = {};
  if (existsSync('.env')) {
    const before = { ...process.env };
    process.loadEnvFile('.env');
    for (const [key, value] of Object.entries(process.env)) if (before[key] === undefined) fromFile[key] = value;
  }
  return { ...localDefaults, ...fromFile, ...process.env };
}
