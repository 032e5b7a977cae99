// The environment `npm start`, `npm run dev` and `npm run demo` give the four apps on a plain machine:
// local Redis and Postgres, with Heroku played by heroku-sim. Values from `.env` (see .env.example)
// or the shell take precedence. These keys are for local development only.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Weak, well-known secrets, so the README can name the console's password. The apps refuse weak secrets unless
 * `LOCAL_DEVELOPMENT=true`, which `localEnv` sets whenever it supplies one of these (each app then logs a warning).
 */
const localSecrets = {
  WEBHOOK_SIGNING_KEYS: 'local-dev-signing-key',
  ADMIN_TOKEN: 'local-admin-token',
};

export const localDefaults = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/heroku_db_sync',
  REDIS_URL: 'redis://127.0.0.1:6379',
  HEROKU_OAUTH_CLIENT_ID: 'local-oauth-client',
  HEROKU_OAUTH_CLIENT_SECRET: 'local-oauth-client-secret',
  ...localSecrets,
  ENCRYPTION_KEYS: 'local:bG9jYWwtZGV2LW9ubHktZW5jcnlwdGlvbi1rZXkhISE=',
  SIM_OAUTH_CLIENT_ID: 'local-oauth-client',
  SIM_OAUTH_CLIENT_SECRET: 'local-oauth-client-secret',
  SIM_SEED_EMAIL: 'developer@example.com',
  SIM_SEED_API_KEY: 'local-heroku-api-key',
  SIM_SEED_APPS: 'sushi-prod,sushi-staging',
  LOG_FORMAT: 'pretty',
  // Destinations on this machine (a consumer on localhost) are private targets over plain http.
  DESTINATIONS_ALLOW_PRIVATE: 'true',
};

export const localPorts = { ingress: 3000, admin: 3001, worker: 3002, 'heroku-sim': 5000 };

/** Each app's port: `INGRESS_PORT`, `ADMIN_PORT`, `WORKER_PORT`, `HEROKU_SIM_PORT`, or the default. */
export function appPorts(env) {
  const port = (app) => Number(env[`${app.toUpperCase().replace('-', '_')}_PORT`] ?? localPorts[app]);
  return { ingress: port('ingress'), admin: port('admin'), worker: port('worker'), 'heroku-sim': port('heroku-sim') };
}

/** `url` naming another database on the same server. */
function withDatabase(url, name) {
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.href;
}

/**
 * The shell's environment over `.env` over the local defaults. Heroku (the sim) and the webhook base URL follow
 * the ports, so moving an app to another port keeps the apps wired together. `LOCAL_DEVELOPMENT=true` comes with
 * the local secrets: set both `WEBHOOK_SIGNING_KEYS` and `ADMIN_TOKEN` to strong values and it is not set.
 */
export function localEnv() {
  const fromFile = {};
  if (existsSync('.env')) {
    const before = { ...process.env };
    process.loadEnvFile('.env');
    for (const [key, value] of Object.entries(process.env)) if (before[key] === undefined) fromFile[key] = value;
  }
  const given = { ...fromFile, ...process.env };
  const ports = appPorts(given);
  const wiring = {
    // heroku-sim keeps its state (accounts, apps, releases, webhooks, OAuth grants) in a database of its own on the
    // service's Postgres server.
    SIM_STATE_URL: withDatabase(given.DATABASE_URL ?? localDefaults.DATABASE_URL, 'heroku_sim'),
    HEROKU_API_URL: `http://127.0.0.1:${ports['heroku-sim']}`,
    HEROKU_OAUTH_URL: `http://127.0.0.1:${ports['heroku-sim']}`,
    PUBLIC_WEBHOOK_BASE_URL: `http://127.0.0.1:${ports.ingress}`,
    // The console's address as start-all prints it: sign-in cookies only come back to the same host name.
    ADMIN_PUBLIC_URL: `http://localhost:${ports.admin}`,
    // Where file destinations write (start-all creates it), beside the sim's kept databases.
    FILE_DESTINATIONS_ROOT: resolve('.data/destination-files'),
  };
  const usesLocalSecrets = Object.keys(localSecrets).some((name) => given[name] === undefined);
  return { ...localDefaults, ...wiring, ...(usesLocalSecrets ? { LOCAL_DEVELOPMENT: 'true' } : {}), ...given };
}
