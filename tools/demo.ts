// `npm run demo`: the whole service on this machine (local Redis and Postgres, Heroku played by heroku-sim), one
// project synced with one Heroku app whose database credentials are rotated three times. The app's database is real
// (a private PostgreSQL that checks passwords): after each rotation the demo connects with the URL it replaced, which
// must be refused, and with the one the project now has, which must read the seeded rows. Prints the story, exits 0
// only if every rotation reached the project and connected, and cleans up (processes, its databases, the private
// PostgreSQL, its Redis keys) on any exit.
import { randomBytes } from 'node:crypto';
import { startStack, waitFor, type AdminAuditEntry, type AdminClient, type Stack } from '@hds/testkit';
import postgres from 'postgres';
import { startDemoConsumer, type DemoConsumer } from './demo-consumer.js';
import { localEnv } from './local-env.js';

const ROTATIONS = 3;
const VAR = 'HASURA_GRAPHQL_DATABASE_URL';
const APPLY_TIMEOUT_MS = 20_000;
const SEED_ROWS = 200;

/** Connects with `url` and counts the seeded customers: `{rows}`, or how the server refused (SQLSTATE and message). */
async function tryConnect(
  url: string,
): Promise<{ ok: true; rows: number } | { ok: false; code: string; message: string }> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from customers`;
    return { ok: true, rows: row?.n ?? 0 };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    return {
      ok: false,
      code: typeof e.code === 'string' ? e.code : '?',
      // The role name is part of the credential: masked like the URLs' user names.
      message: (typeof e.message === 'string' ? e.message : String(err)).replace(/user "[^"]*"/, 'user "****"'),
    };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const say = (line = '') => process.stdout.write(`${line}\n`);
/** A fingerprint (keyed hash of the value) as the console shows it: values whose masked forms match differ here. */
const short = (fingerprint: string | null | undefined) =>
  fingerprint ? `#${fingerprint.replace(/^[a-z0-9-]+:/, '').slice(0, 8)}` : '#-';

let starting: Promise<Stack> | undefined;
let consumer: (DemoConsumer & { setSecret(secret: string): void }) | undefined;
let stack: Stack | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

/** Stops the processes, drops the database, deletes the Redis keys; once, whatever called it. */
function cleanUp(keepLogs: boolean): Promise<void> {
  cleaning ??= (async () => {
    // Interrupted while starting: a stack that fails to start cleans up after itself; one that starts is closed.
    await consumer?.close().catch(() => undefined);
    const running = (await starting?.catch(() => undefined)) ?? stack;
    if (!running) return;
    try {
      await running.close({ keepLogs });
      say(
        `Cleaned up: processes stopped, database ${running.database.name} dropped, Redis keys ${running.redisPrefix}:* deleted.`,
      );
      say(`            heroku-sim's state database dropped and its app databases' PostgreSQL removed.`);
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
    // Each app's Heroku Postgres is a real database on a private PostgreSQL that checks passwords; the sim keeps
    // its state in a database beside the demo's.
    realDatabases: true,
    // The demo's consumer listens on 127.0.0.1.
    env: { worker: { DESTINATIONS_ALLOW_PRIVATE: 'true' }, admin: { DESTINATIONS_ALLOW_PRIVATE: 'true' } },
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
  const seeded = await sim.seed(app.name, { rows: SEED_ROWS });
  say(`1. On "Heroku": account ${simAccount.email} with app ${app.name} and its Heroku Postgres (DATABASE_URL),`);
  say(`   a real database, seeded: ${seeded.tables.map((t) => `${t.name} ${t.rows}`).join(', ')} rows.`);
  const customers = seeded.tables.find((t) => t.name === 'customers')?.rows ?? 0;
  const account = await admin.addAccount(simAccount.apiKey);
  say(`2. Added the Heroku account to the service with its API key (account ${account.id}).`);
  const project = await admin.createProject({ name: 'Sushi', heroku: { accountId: account.id, app: app.name } });
  let current = await envVar(admin, project.id);
  say(
    `3. Created project "${project.name}" synced with ${app.name}: state ${project.sync.state}, ` +
      `release v${project.sync.lastReleaseVersion} applied.`,
  );
  say(`   ${VAR} = ${current.masked} ${short(current.fingerprint)}`);
  const first = await tryConnect((await admin.envValue(project.id, VAR)) ?? '');
  say(
    `   connecting with it: ${first.ok ? `ok, ${first.rows} customers` : `refused (${first.code} ${first.message})`}`,
  );
  // The last mile: a program with a pool on the app's database, told by a signed webhook.
  const { token } = await admin.http.expect<{ token: string }>('POST', `/api/projects/${project.id}/tokens`, {
    status: 201,
    body: { name: 'demo-consumer' },
  });
  consumer = await startDemoConsumer({ apiUrl: stack.adminUrl, projectId: project.id, token, varName: VAR });
  const destination = await admin.http.expect<{ id: string; secret: string }>(
    'POST',
    `/api/projects/${project.id}/destinations`,
    { status: 201, body: { kind: 'webhook', url: consumer.url, vars: [VAR] } },
  );
  consumer.setSecret(destination.secret);
  say(`   A consumer (examples/consumer's parts) gets a webhook destination (secret whsec_…, shown once) and a`);
  say(`   project read token; it fetches ${VAR} with the token and keeps a postgres.js pool on it.`);
  say(`4. Rotating the app's database credentials ${ROTATIONS} times (as \`heroku pg:credentials:rotate\` does):`);

  let applied = 0;
  let delivered = 0;
  let connected = first.ok && first.rows === customers ? 1 : 0;
  for (let n = 1; n <= ROTATIONS; n += 1) {
    const previousUrl = (await admin.envValue(project.id, VAR)) ?? '';
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
    // The URL it replaced must no longer get in; the one the project has now must.
    const old = await tryConnect(previousUrl);
    say(
      old.ok
        ? `      the old URL still connects: the password did not change!`
        : `      the old URL is refused: ${old.code} ${old.message}`,
    );
    const now = await tryConnect((await admin.envValue(project.id, VAR)) ?? '');
    say(
      now.ok
        ? `      the new URL connects: ${now.rows} customers`
        : `      the new URL is refused: ${now.code} ${now.message}`,
    );
    try {
      const swap = await consumer.swapped(rotation.version);
      const pooled = Math.round(swap.at - (performance.timeOrigin + started));
      say(`      the consumer's pool moved to it ${pooled} ms after the rotation: ${swap.customers} customers`);
      if (swap.customers === customers) delivered += 1;
    } catch (err) {
      say(`      the consumer: ${(err as Error).message}`);
    }
    if (!old.ok && old.code === '28P01' && now.ok && now.rows === customers) connected += 1;
  }

  const status = await admin.syncStatus(project.id);
  say();
  say(
    `5. Sync status: ${status.state}, last release v${status.lastReleaseVersion}, last error ${status.lastError ?? 'none'}.`,
  );
  say('   Audit log (oldest first; values masked, never stored in clear):');
  for (const entry of (await admin.audit(project.id)).reverse()) say(auditLine(entry));
  say();
  const log = await admin.http.expect<{
    deliveries: Array<{ status: string; attempts: number; lastLatencyMs: number }>;
  }>('GET', `/api/projects/${project.id}/destinations/${destination.id}/deliveries?limit=10`, { status: 200 });
  say(
    `   Delivery log: ${log.deliveries.map((d) => `${d.status} (${d.attempts} attempt${d.attempts === 1 ? '' : 's'}, ${d.lastLatencyMs} ms)`).join(', ')}`,
  );
  const ok =
    applied === ROTATIONS &&
    status.lastReleaseVersion === 1 + ROTATIONS &&
    connected === ROTATIONS + 1 &&
    delivered === ROTATIONS;
  say(
    applied === ROTATIONS
      ? `All ${ROTATIONS} rotations were applied.`
      : `Only ${applied} of ${ROTATIONS} rotations were applied.`,
  );
  say(
    delivered === ROTATIONS
      ? `Each time the consumer got a signed webhook and moved its pool to the new password.`
      : `Only ${delivered} of ${ROTATIONS} rotations reached the consumer.`,
  );
  say(
    connected === ROTATIONS + 1
      ? `Each time the project's URL connected and the one it replaced was refused.`
      : `Only ${connected} of ${ROTATIONS + 1} checks of the URLs came out right.`,
  );
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
