// `npm run demo`: the whole service on this machine (local Redis and Postgres, Heroku played by heroku-sim), one
// project synced with one Heroku app whose database credentials are rotated three times. Prints the story, exits 0
// only if every rotation reached the project, and cleans up (processes, its database, its Redis keys) on any exit.
import { randomBytes } from 'node:crypto';
import { startStack, waitFor, type AdminAuditEntry, type AdminClient, type Stack } from '@hds/testkit';
import { localEnv } from './local-env.js';

const ROTATIONS = 3;
const VAR = 'HASURA_GRAPHQL_DATABASE_URL';
const APPLY_TIMEOUT_MS = 20_000;

const say = (line = '') => process.stdout.write(`${line}\n`);
/** A fingerprint (keyed hash of the value) as the console shows it: values whose masked forms match differ here. */
const short = (fingerprint: string | null | undefined) =>
  fingerprint ? `#${fingerprint.replace(/^[a-z0-9-]+:/, '').slice(0, 8)}` : '#-';

let starting: Promise<Stack> | undefined;
let stack: Stack | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

/** Stops the processes, drops the database, deletes the Redis keys; once, whatever called it. */
function cleanUp(keepLogs: boolean): Promise<void> {
  cleaning ??= (async () => {
    // Interrupted while starting: a stack that fails to start cleans up after itself; one that starts is closed.
    const running = (await starting?.catch(() => undefined)) ?? stack;
    if (!running) return;
    try {
      await running.close({ keepLogs });
      say(
        `Cleaned up: processes stopped, database ${running.database.name} dropped, Redis keys ${running.redisPrefix}:* deleted.`,
      );
      if (keepLogs) say(`The processes' logs are kept in ${running.logDir}`);
    } catch (err) {
      say(`Cleaning up failed: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    say(`\n${signal}: stopping the demo.`);
    void cleanUp(false).finally(() => process.exit(130));
  });
}

async function envVar(admin: AdminClient, projectId: string) {
  const masked = (await admin.env(projectId)).find((v) => v.name === VAR);
  return { masked: masked?.value ?? '(not set)', fingerprint: masked?.fingerprint ?? null };
}

function auditLine(entry: AdminAuditEntry): string {
  const time = entry.at.slice(11, 23);
  const release = entry.releaseVersion === null ? '' : ` v${entry.releaseVersion}`;
  let change = '';
  if (entry.varName !== null) {
    change =
      entry.before === entry.after
        ? ` ${entry.varName} changed (same masked form: a new password)`
        : ` ${entry.varName}: ${entry.before ?? '(unset)'} → ${entry.after ?? '(unset)'}`;
  }
  return `   ${time}  ${entry.action.padEnd(15)} by ${entry.actor.padEnd(8)}${release}${change}`.trimEnd();
}

async function main(): Promise<boolean> {
  const env = localEnv();
  const pgAdminUrl = new URL(env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  pgAdminUrl.pathname = '/postgres';
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';

  say('heroku-db-sync demo: Heroku is played by heroku-sim; each app runs as its own process.');
  starting = startStack({
    database: 'migrate',
    namePrefix: 'hds_demo',
    pgAdminUrl: pgAdminUrl.href,
    redisUrl,
    workers: 1,
  });
  stack = await starting;
  if (interrupted) throw new Error('interrupted');
  const { admin, sim } = stack;
  say(`  database ${stack.database.name} (created for the demo), queue prefix ${stack.redisPrefix}`);
  say(
    `  ${stack
      .processes()
      .map((p) => `${p.name} ${p.url}`)
      .join(', ')}`,
  );
  say();

  const simAccount = await sim.createAccount({ email: 'demo@example.com' });
  const app = await sim.createApp({ name: `sushi-${randomBytes(3).toString('hex')}`, accountId: simAccount.id });
  say(`1. On "Heroku": account ${simAccount.email} with app ${app.name} and its Heroku Postgres (DATABASE_URL).`);
  const account = await admin.addAccount(simAccount.apiKey);
  say(`2. Added the Heroku account to the service with its API key (account ${account.id}).`);
  const project = await admin.createProject({ name: 'Sushi', heroku: { accountId: account.id, app: app.name } });
  let current = await envVar(admin, project.id);
  say(
    `3. Created project "${project.name}" synced with ${app.name}: state ${project.sync.state}, ` +
      `release v${project.sync.lastReleaseVersion} applied.`,
  );
  say(`   ${VAR} = ${current.masked} ${short(current.fingerprint)}`);
  say(`4. Rotating the app's database credentials ${ROTATIONS} times (as \`heroku pg:credentials:rotate\` does):`);

  let applied = 0;
  for (let n = 1; n <= ROTATIONS; n += 1) {
    const started = performance.now();
    const rotation = await sim.rotateCredentials(app.name);
    try {
      await waitFor(async () => (await admin.envValue(project.id, VAR)) === rotation.databaseUrl, {
        timeoutMs: APPLY_TIMEOUT_MS,
        intervalMs: 10,
        what: `release v${rotation.version} to reach the project`,
      });
    } catch {
      say(`   rotation ${n}: release v${rotation.version} did not reach the project within ${APPLY_TIMEOUT_MS} ms.`);
      continue;
    }
    const ms = Math.round(performance.now() - started);
    const next = await envVar(admin, project.id);
    say(`   rotation ${n}: Heroku made release v${rotation.version}; the project had the new URL ${ms} ms later`);
    say(`      ${VAR} = ${next.masked} ${short(next.fingerprint)} (was ${short(current.fingerprint)})`);
    current = next;
    applied += 1;
  }

  const status = await admin.syncStatus(project.id);
  say();
  say(
    `5. Sync status: ${status.state}, last release v${status.lastReleaseVersion}, last error ${status.lastError ?? 'none'}.`,
  );
  say('   Audit log (oldest first; values masked, never stored in clear):');
  for (const entry of (await admin.audit(project.id)).reverse()) say(auditLine(entry));
  say();
  const ok = applied === ROTATIONS && status.lastReleaseVersion === 1 + ROTATIONS;
  say(ok ? `All ${ROTATIONS} rotations were applied.` : `Only ${applied} of ${ROTATIONS} rotations were applied.`);
  return ok;
}

let ok = false;
try {
  ok = await main();
} catch (err) {
  if (!interrupted) {
    say(`\nThe demo failed: ${(err as Error).message}`);
    if (/ECONNREFUSED/.test(String(err))) {
      say('It needs PostgreSQL on DATABASE_URL and Redis on REDIS_URL (default 127.0.0.1:5432 and :6379): see README.');
    }
  }
}
if (interrupted) {
  // The signal handler cleans up and exits.
  await cleanUp(false);
  process.exit(130);
}
if (!ok && stack) say(`\nThe processes' last log lines:\n${stack.logs({ tail: 30 })}`);
await cleanUp(!ok);
process.exitCode = ok ? (process.exitCode ?? 0) : 1;
