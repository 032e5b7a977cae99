// `npm start`: creates and migrates the local database, then runs ingress, worker, admin and heroku-sim
// together with one prefixed log stream. Ctrl-C stops all four cleanly. `--dev` runs sources with reload.
import concurrently from 'concurrently';
import { ensureDatabase, runMigrations } from '@hds/db';
import { appPorts, localDefaults, localEnv } from './local-env.js';

const dev = process.argv.includes('--dev');
const env = localEnv();
const ports = appPorts(env);

await ensureDatabase(env.DATABASE_URL);
const { applied } = await runMigrations({ databaseUrl: env.DATABASE_URL });
console.log(`database ready (${applied} migration(s) applied)`);

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
}
