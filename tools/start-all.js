// `npm start`: creates and migrates the local database, starts the private PostgreSQL that holds heroku-sim's app
// databases, then runs ingress, worker, admin and heroku-sim together with one prefixed log stream. Ctrl-C stops all
// four cleanly, then that PostgreSQL (its data stays, beside the sim's kept state). `--dev` runs sources with reload.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import concurrently from 'concurrently';
import { ensureDatabase, runMigrations } from '@hds/db';
import { startPostgresServer } from '@hds/testkit';
import { appPorts, localDefaults, localEnv } from './local-env.js';

const dev = process.argv.includes('--dev');
const env = localEnv();
const ports = appPorts(env);

await ensureDatabase(env.DATABASE_URL);
const { applied } = await runMigrations({ databaseUrl: env.DATABASE_URL });
console.log(`database ready (${applied} migration(s) applied)`);

// heroku-sim's apps get real databases. The local Postgres trusts every local connection, so a rotated-away
// password would still connect there: the sim's databases live on a cluster of their own that checks passwords,
// kept in SIM_POSTGRES_DIR (default .data/sim-postgres) so they outlive a restart as the sim's state does.
let simPostgres;
if (!env.SIM_POSTGRES_URL) {
  const dir = resolve(env.SIM_POSTGRES_DIR ?? '.data/sim-postgres');
  const port = Number(env.SIM_POSTGRES_PORT ?? 5433);
  try {
    simPostgres = await startPostgresServer({ auth: 'scram-sha-256', dir, port });
  } catch (err) {
    console.error(
      `could not start the PostgreSQL for heroku-sim's app databases on 127.0.0.1:${port} (data in ${dir}): ` +
        `${err.message}\nMove it with SIM_POSTGRES_PORT, or point SIM_POSTGRES_URL at a server that checks passwords.`,
    );
    process.exit(1);
  }
  env.SIM_POSTGRES_URL = simPostgres.url;
  console.log(`heroku-sim's app databases: PostgreSQL with password auth on 127.0.0.1:${port} (data in ${dir})`);
}

// File destinations write under this directory (worker) and are checked against it (admin).
mkdirSync(env.FILE_DESTINATIONS_ROOT, { recursive: true, mode: 0o700 });
console.log(`file destinations write under ${env.FILE_DESTINATIONS_ROOT}`);

const apps = ['heroku-sim', 'ingress', 'worker', 'admin'];
const { result } = concurrently(
  apps.map((app) => ({
    name: app,
    command: dev
      ? `node --conditions=@hds/source --import tsx --watch apps/${app}/src/main.ts`
      : `node apps/${app}/dist/main.js`,
    env: { ...env, PORT: String(ports[app]) },
  })),
  {
    prefix: '{name}',
    prefixColors: ['magenta', 'cyan', 'yellow', 'green'],
    padPrefix: true,
    killOthersOn: ['failure'],
    killSignal: 'SIGTERM',
  },
);

// With the local development settings the password is known and printed; a token of your own is not echoed.
const password = env.ADMIN_TOKEN === localDefaults.ADMIN_TOKEN ? env.ADMIN_TOKEN : 'your ADMIN_TOKEN';
console.log(
  `console: ${env.ADMIN_PUBLIC_URL}/ (user admin, password ${password})  ` +
    `webhooks: http://127.0.0.1:${ports.ingress}  heroku-sim: http://127.0.0.1:${ports['heroku-sim']}`,
);

try {
  await result;
} catch {
  process.exitCode = 1;
} finally {
  if (simPostgres) {
    await simPostgres.close();
    console.log(`stopped the PostgreSQL of heroku-sim's app databases (its data stays in ${simPostgres.dir})`);
  }
}
