// The whole stack of built apps for end-to-end tests, the demo and benchmarks: `startStack()`.
//
// heroku-sim with real databases (issues 12, 13, 16 build on it): `startStack({ realDatabases: true })` runs the sim
// as `npm start` does. Each app's Heroku Postgres is then a real database and login role on a private cluster that
// checks passwords (`startSimPostgres`: scram-sha-256), and the sim keeps its state in a database of the stack's own
// (`simState: 'postgres'`, the default then), so `stack.restart('heroku-sim')` keeps every id and webhook:
//
//   const stack = await startStack({ realDatabases: true });
//   const app = await stack.sim.createApp({ name: 'shop', accountId });  // app.databaseUrl connects
//   await stack.sim.seed(app.name, { rows: 1000 });                     // a small schema with rows to copy
//   const { server, adminUrl, prefix } = stack.simDatabases!;           // the cluster, as its superuser
//
// A rotation (`stack.sim.rotateCredentials(app)`) sets a new password and ends the role's sessions before it
// answers. Pass `realDatabases: { server }` to share one cluster between stacks (each drops what its sim made).
// `close()` removes it all: processes, databases, the private cluster, Redis keys.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { testEncryptionKeys, testServices, testWebhookSigningKeys, uniqueName } from './config.js';
import { startBuiltProcess, type ProcessResult, type RunningProcess } from './process.js';
import { freePort } from './redis-server.js';
import { deleteKeysWithPrefix } from './redis.js';
import { repoRoot } from './shared.js';
import { assertBuilt } from './stack-build.js';
import type { PostgresServer } from './postgres-server.js';
import { dropSimDatabases, simPostgresPrefix, startSimPostgres } from './sim-postgres.js';
import { AdminClient, SimClient } from './stack-clients.js';
import { createStackDatabase, dropDatabase, MIGRATE_CLI, withDatabase, type StackDatabase } from './stack-database.js';
import { ProcessLog } from './stack-logs.js';

export type StackApp = 'heroku-sim' | 'ingress' | 'worker' | 'admin';
export const stackApps: readonly StackApp[] = ['heroku-sim', 'ingress', 'worker', 'admin'];

/** The log lines (`msg`) after which each app serves: all of them, in this order. */
const readyMessages: Record<StackApp, readonly string[]> = {
  'heroku-sim': ['heroku-sim listening'],
  ingress: ['ingress listening'],
  worker: ['worker consuming', 'worker listening'],
  admin: ['admin listening'],
};

export interface StackOptions {
  /** Worker processes to start (default 1; 0 is allowed, start them with `startWorker`). */
  workers?: number;
  /** Env for every worker, over the stack's: tunables such as `WORKER_LOCK_DURATION_MS`, `RECONCILE_TICK_MS`. */
  workerEnv?: Record<string, string>;
  /** The OAuth client the sim accepts and the admin and workers use (default: a random one). */
  oauthClient?: { id: string; secret: string };
  /**
   * The host name of `ADMIN_PUBLIC_URL` (default `127.0.0.1`, the address the stack's URLs use): `localhost` makes
   * the admin's public address differ from `adminUrl`, as under `npm start`.
   */
  adminPublicHost?: string;
  /** Env per app, over the stack's (and over `workerEnv`). */
  env?: Partial<Record<StackApp, Record<string, string>>>;
  /** `template` (default): a copy of the migrated test template; `migrate`: a new database, migrated. */
  database?: 'template' | 'migrate';
  /** Prefix of the database's name and of the Redis key prefix (default `hds_stack`, `hdsstack`). */
  namePrefix?: string;
  /** Maintenance URL of the Postgres server (default `TEST_PG_URL`). */
  pgAdminUrl?: string;
  /** Redis (default `TEST_REDIS_URL`). */
  redisUrl?: string;
  /** Where each process's log file goes (default: a new temporary directory). */
  logDir?: string;
  /** How long each process may take to log that it is ready (default 30 s). */
  readyTimeoutMs?: number;
  /** The repository whose built apps run (default this one): only tests of the stack itself set it. */
  root?: string;
  /**
   * heroku-sim as `npm start` runs it: each app's Heroku Postgres a real database and login role
   * (`SIM_POSTGRES_URL`) on a cluster that checks passwords, so a rotated-away URL is refused. `true` starts a
   * private cluster for the stack (closed with it); `{server}` uses yours (the stack drops what its sim made
   * there). See `Stack.simDatabases`.
   */
  realDatabases?: boolean | { server: PostgresServer };
  /**
   * Where heroku-sim keeps its state: `postgres` (the default with `realDatabases`) is a database of the stack's
   * own on the Postgres server (`SIM_STATE_URL`), so `restart('heroku-sim')` keeps every id, release, config var
   * and webhook; `memory` (the default otherwise) forgets them.
   */
  simState?: 'memory' | 'postgres';
}

/** heroku-sim's real databases in a stack (`realDatabases`). */
export interface StackSimDatabases {
  /** The cluster: connect as its superuser with `server.url` (e.g. to make a data-migration target there). */
  server: PostgresServer;
  /** `SIM_POSTGRES_URL`. */
  adminUrl: string;
  /** `SIM_POSTGRES_PREFIX`: the sim's roles and databases are `<prefix>_…`. */
  prefix: string;
}

export interface StackProcess {
  /** `heroku-sim`, `ingress`, `admin`, `worker-1`, `worker-2`, ... */
  readonly name: string;
  readonly app: StackApp;
  readonly port: number;
  readonly url: string;
  /** The current (or last) incarnation. */
  readonly process: RunningProcess;
  readonly running: boolean;
  /** Every incarnation's output lines (the newest few thousand), as written. */
  readonly logLines: readonly string[];
  readonly logFile: string;
}

export interface Stack {
  readonly simUrl: string;
  readonly ingressUrl: string;
  readonly adminUrl: string;
  /** `ADMIN_PUBLIC_URL`: `adminUrl` unless `adminPublicHost` was given. */
  readonly adminPublicUrl: string;
  readonly adminToken: string;
  /** The OAuth client the sim accepts and the admin and workers use. */
  readonly oauthClient: { id: string; secret: string };
  readonly database: { name: string; url: string };
  /** With `realDatabases`: where the apps' databases are. */
  readonly simDatabases: StackSimDatabases | undefined;
  /** With `simState: 'postgres'`: `SIM_STATE_URL`. */
  readonly simStateUrl: string | undefined;
  readonly redisPrefix: string;
  readonly logDir: string;
  /** The admin API with the bearer token. */
  readonly admin: AdminClient;
  /** heroku-sim's `/_sim/` controls. */
  readonly sim: SimClient;
  processes(): StackProcess[];
  process(name: string): StackProcess;
  /** The worker processes that run now. */
  workers(): StackProcess[];
  /** Starts one more worker (`worker-<n>`) and resolves once it consumes and listens. */
  startWorker(env?: Record<string, string>): Promise<StackProcess>;
  /** Stops a process (SIGTERM, or the given signal) and resolves with how it exited. */
  stop(name: string, options?: { signal?: NodeJS.Signals }): Promise<ProcessResult>;
  /** SIGKILL: a crash. */
  kill(name: string): Promise<ProcessResult>;
  /** Stops a process if it runs and starts it again on the same port, with `env` over its env; resolves once ready. */
  restart(name: string, options?: { env?: Record<string, string>; signal?: NodeJS.Signals }): Promise<StackProcess>;
  /** The last `tail` lines of each process's log (default all processes), readable. */
  logs(options?: { names?: string[]; tail?: number }): string;
  /**
   * Stops every process (SIGTERM, SIGKILL after `graceMs`), drops the database (and the sim's state database and
   * app databases, or its private cluster), deletes the Redis keys, and the log directory unless `keepLogs`. Runs
   * every step even when one fails, then throws the failures.
   */
  close(options?: { keepLogs?: boolean; graceMs?: number }): Promise<void>;
}

interface Member {
  name: string;
  app: StackApp;
  port: number;
  env: Record<string, string>;
  log: ProcessLog;
  current: RunningProcess;
}

const entryOf = (app: StackApp) => `apps/${app}/dist/main.js`;
const urlOf = (port: number) => `http://127.0.0.1:${port}`;

/** Whether `line` is a JSON log line with `msg`. */
function hasMessage(line: string, msg: string): boolean {
  if (!line.includes(msg)) return false;
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === msg;
  } catch {
    return false;
  }
}

/**
 * Starts the built apps as separate processes, as a user runs them: heroku-sim, the ingress, `workers` workers
 * and the admin, each on a free loopback port, on a fresh database and Redis key prefix. The sim delivers
 * webhooks to the ingress (`PUBLIC_WEBHOOK_BASE_URL`); the admin and workers call the sim as Heroku
 * (`HEROKU_API_URL`, `HEROKU_OAUTH_URL`) with an OAuth client it accepts. Each process is ready once it logged
 * that it listens (and, for a worker, consumes). Fails at once when the apps are not built. Always `close()`.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const root = options.root ?? repoRoot;
  const entries = stackApps.map(entryOf);
  if (options.database === 'migrate') entries.push(MIGRATE_CLI);
  assertBuilt({ entries, root });
  const redisUrl = options.redisUrl ?? testServices.redisUrl;
  const namePrefix = options.namePrefix ?? 'hds_stack';
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), `${namePrefix}-logs-`));
  const redisPrefix = uniqueName(namePrefix.replace(/[^a-z0-9]/gi, ''));
  const adminToken = randomBytes(32).toString('base64url');
  const oauthClient = options.oauthClient ?? {
    id: `stack-client-${randomBytes(4).toString('hex')}`,
    secret: randomBytes(16).toString('hex'),
  };
  const members = new Map<string, Member>();
  let database: StackDatabase | undefined;
  let databaseUrl = '';
  let workerCount = 0;
  const realDatabases = options.realDatabases ?? false;
  const simStateMode = options.simState ?? (realDatabases === false ? 'memory' : 'postgres');
  let simDatabases: StackSimDatabases | undefined;
  /** Whether the stack started the sim's cluster (and closes it) or was given it (and drops what the sim made). */
  let ownsSimCluster = false;
  let simStateUrl: string | undefined;

  const spawnMember = (spec: { name: string; app: StackApp; env: Record<string, string>; log: ProcessLog }) =>
    startBuiltProcess(join(root, entryOf(spec.app)), spec.env, {
      name: spec.name,
      onLine: (line, stream) => spec.log.write(stream === 'stderr' ? `[stderr] ${line}` : line),
    });
  const ready = async (m: Member): Promise<void> => {
    for (const msg of readyMessages[m.app]) {
      await m.current.waitForLine((line) => hasMessage(line, msg), { timeoutMs: readyTimeoutMs });
    }
  };

  /** Starts a new member on a free port; picks another port if that one was taken meanwhile. */
  const launch = async (input: {
    name: string;
    app: StackApp;
    env: (port: number) => Record<string, string>;
  }): Promise<Member> => {
    const log = new ProcessLog(join(logDir, `${input.name}.log`));
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const env = input.env(port);
      const member: Member = {
        name: input.name,
        app: input.app,
        port,
        env,
        log,
        current: spawnMember({ ...input, env, log }),
      };
      members.set(input.name, member);
      try {
        await ready(member);
        return member;
      } catch (err) {
        await member.current.stop('SIGKILL');
        const taken = member.current.stderrLines.some((line) => line.includes('EADDRINUSE'));
        if (!taken || attempt === 3) throw err;
        log.write(`[stack] port ${port} was taken; trying another`);
      }
    }
  };

  const base = { LOG_LEVEL: 'info', LOG_FORMAT: 'json' };
  let simUrl = '';
  let ingressUrl = '';
  let adminUrl = '';
  const serviceEnv = () => ({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: redisPrefix,
    HEROKU_API_URL: simUrl,
    HEROKU_OAUTH_URL: simUrl,
    HEROKU_OAUTH_CLIENT_ID: oauthClient.id,
    HEROKU_OAUTH_CLIENT_SECRET: oauthClient.secret,
    PUBLIC_WEBHOOK_BASE_URL: ingressUrl,
    WEBHOOK_SIGNING_KEYS: testWebhookSigningKeys.join(','),
    ENCRYPTION_KEYS: testEncryptionKeys.join(','),
  });
  const launchWorker = (env: Record<string, string> = {}) => {
    workerCount += 1;
    return launch({
      name: `worker-${workerCount}`,
      app: 'worker',
      env: (port) => ({
        ...base,
        ...serviceEnv(),
        ...options.workerEnv,
        ...options.env?.worker,
        ...env,
        PORT: String(port),
      }),
    });
  };

  let closing: Promise<void> | undefined;
  /** Runs once; later calls get the first one's outcome. */
  const closeAll = (closeOptions: { keepLogs?: boolean; graceMs?: number } = {}) =>
    (closing ??= closeEverything(closeOptions));
  const closeEverything = async (closeOptions: { keepLogs?: boolean; graceMs?: number }) => {
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (err) {
        failures.push(err);
      }
    };
    await Promise.all(
      [...members.values()].map((member) =>
        attempt(async () => {
          const exited = member.current.stop('SIGTERM');
          const timer = setTimeout(() => member.current.child.kill('SIGKILL'), closeOptions.graceMs ?? 10_000);
          await exited.finally(() => clearTimeout(timer));
        }),
      ),
    );
    await Promise.all([...members.values()].map((member) => attempt(() => member.log.close())));
    const created = database;
    if (created) await attempt(() => created.drop());
    const stateUrl = simStateUrl;
    if (stateUrl !== undefined) await attempt(() => dropDatabase(stateUrl));
    const sim = simDatabases;
    if (sim && ownsSimCluster) await attempt(() => sim.server.close());
    else if (sim) await attempt(() => dropSimDatabases({ adminUrl: sim.adminUrl, prefix: sim.prefix }));
    await attempt(async () => {
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        await deleteKeysWithPrefix(redis, redisPrefix);
      } finally {
        redis.disconnect();
      }
    });
    if (!closeOptions.keepLogs && options.logDir === undefined) rmSync(logDir, { recursive: true, force: true });
    if (failures.length > 0) throw new AggregateError(failures, 'the stack did not close cleanly');
  };

  try {
    database = await createStackDatabase({
      mode: options.database ?? 'template',
      prefix: namePrefix,
      ...(options.pgAdminUrl ? { pgAdminUrl: options.pgAdminUrl } : {}),
    });
    databaseUrl = database.url;
    if (simStateMode === 'postgres') simStateUrl = withDatabase(database.url, `${database.name}_sim`);
    if (realDatabases !== false) {
      ownsSimCluster = realDatabases === true;
      const server = realDatabases === true ? await startSimPostgres() : realDatabases.server;
      simDatabases = { server, adminUrl: server.url, prefix: simPostgresPrefix() };
    }
    const simDatabaseEnv: Record<string, string> = {
      ...(simDatabases ? { SIM_POSTGRES_URL: simDatabases.adminUrl, SIM_POSTGRES_PREFIX: simDatabases.prefix } : {}),
      ...(simStateUrl !== undefined ? { SIM_STATE_URL: simStateUrl } : {}),
    };
    const [sim, ingress] = await Promise.all([
      launch({
        name: 'heroku-sim',
        app: 'heroku-sim',
        env: (port) => ({
          ...base,
          PORT: String(port),
          SIM_PUBLIC_URL: urlOf(port),
          SIM_OAUTH_CLIENT_ID: oauthClient.id,
          SIM_OAUTH_CLIENT_SECRET: oauthClient.secret,
          ...simDatabaseEnv,
          ...options.env?.['heroku-sim'],
        }),
      }),
      launch({
        name: 'ingress',
        app: 'ingress',
        env: (port) => ({
          ...base,
          PORT: String(port),
          REDIS_URL: redisUrl,
          QUEUE_PREFIX: redisPrefix,
          WEBHOOK_SIGNING_KEYS: testWebhookSigningKeys.join(','),
          ...options.env?.ingress,
        }),
      }),
    ]);
    simUrl = urlOf(sim.port);
    ingressUrl = urlOf(ingress.port);
    const admin = launch({
      name: 'admin',
      app: 'admin',
      env: (port) => ({
        ...base,
        ...serviceEnv(),
        PORT: String(port),
        ADMIN_TOKEN: adminToken,
        ADMIN_PUBLIC_URL: `http://${options.adminPublicHost ?? '127.0.0.1'}:${port}`,
        ...options.env?.admin,
      }),
    });
    const workers = Array.from({ length: options.workers ?? 1 }, () => launchWorker());
    const [adminMember] = await Promise.all([admin, ...workers]);
    adminUrl = urlOf(adminMember.port);
  } catch (err) {
    const logs = [...members.values()].map((m) => `\n--- ${m.name}\n${m.log.tail(40).join('\n')}`).join('');
    await closeAll().catch(() => {});
    throw new Error(`the stack did not start: ${(err as Error).message}${logs}`, { cause: err });
  }

  const ordered = () =>
    [...members.values()].sort(
      (a, b) =>
        stackApps.indexOf(a.app) - stackApps.indexOf(b.app) || a.name.localeCompare(b.name, 'en', { numeric: true }),
    );
  const member = (name: string): Member => {
    const found = members.get(name);
    if (!found) throw new Error(`no process ${name} in the stack (it has ${[...members.keys()].join(', ')})`);
    return found;
  };
  const view = (m: Member): StackProcess => ({
    name: m.name,
    app: m.app,
    port: m.port,
    url: urlOf(m.port),
    process: m.current,
    get running() {
      return m.current.running;
    },
    logLines: m.log.lines,
    logFile: m.log.path,
  });

  return {
    simUrl,
    ingressUrl,
    adminUrl,
    adminPublicUrl: adminUrl.replace('127.0.0.1', options.adminPublicHost ?? '127.0.0.1'),
    adminToken,
    oauthClient,
    database: { name: database.name, url: database.url },
    simDatabases,
    simStateUrl,
    redisPrefix,
    logDir,
    admin: new AdminClient({ url: adminUrl, token: adminToken }),
    sim: new SimClient({ url: simUrl }),
    processes: () => ordered().map(view),
    process: (name) => view(member(name)),
    workers: () =>
      ordered()
        .filter((m) => m.app === 'worker' && m.current.running)
        .map(view),
    startWorker: async (env) => view(await launchWorker(env)),
    stop: (name, stopOptions = {}) => member(name).current.stop(stopOptions.signal ?? 'SIGTERM'),
    kill: (name) => member(name).current.stop('SIGKILL'),
    restart: async (name, restartOptions = {}) => {
      const m = member(name);
      await m.current.stop(restartOptions.signal ?? 'SIGTERM');
      m.env = { ...m.env, ...restartOptions.env };
      m.log.write(`[stack] restarting ${name}`);
      m.current = spawnMember(m);
      await ready(m);
      return view(m);
    },
    logs: (logOptions = {}) =>
      (logOptions.names ?? ordered().map((m) => m.name))
        .map((name) => {
          const m = member(name);
          return `--- ${name} (${m.log.path})\n${m.log.tail(logOptions.tail ?? 80).join('\n')}`;
        })
        .join('\n'),
    close: closeAll,
  };
}
