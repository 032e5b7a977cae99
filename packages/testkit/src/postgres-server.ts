import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis-server.js';

const run = promisify(execFile);

/**
 * A private PostgreSQL cluster for tests that stop or restart Postgres, and for heroku-sim's app databases, which
 * need a server that checks passwords (`auth: 'scram-sha-256'`). Never restart the shared test server: other test
 * files use it at the same time.
 */
export interface PostgresServer {
  port: number;
  /**
   * The maintenance database (`postgres`) as the superuser `postgres` over TCP on 127.0.0.1: without a password
   * under `trust`, with the superuser's password under `scram-sha-256`.
   */
  url: string;
  /** How TCP connections authenticate. */
  auth: PostgresAuth;
  /** The directory with `data/`, the log and the socket. */
  dir: string;
  /** Whether the server was started and not stopped since (by this handle). */
  readonly running: boolean;
  /**
   * `pg_ctl stop`: `fast` (the default) rolls back every open transaction and disconnects every session, as an
   * operator's restart does; `immediate` is a crash (recovery from the WAL at the next start).
   */
  stop(options?: { mode?: ShutdownMode }): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** `stop` then `start`. */
  restart(options?: { mode?: ShutdownMode }): Promise<void>;
  /** The server log (startup, shutdown, errors), for failure messages. */
  log(): string;
  /**
   * Stops the server if it runs and deletes its directory (`immediate`); with a `dir` of the caller's, stops it
   * cleanly (`fast`) and keeps the directory for the next start.
   */
  close(): Promise<void>;
}

export type ShutdownMode = 'smart' | 'fast' | 'immediate';

/**
 * `trust`: any connection is the user it names, no password (like the machine's server). `scram-sha-256`: TCP
 * connections must give the role's password, so a wrong or rotated-away password is refused (SQLSTATE 28P01);
 * the Unix socket in the cluster's directory still trusts, for `pg_ctl`.
 */
export type PostgresAuth = 'trust' | 'scram-sha-256';

/** The superuser's password of a `scram-sha-256` cluster, kept beside its data so a kept cluster starts again. */
const PASSWORD_FILE = 'superuser-password';

/** The directory with `initdb` and `pg_ctl`: `PG_BIN_DIR`, else the newest `/usr/lib/postgresql/<n>/bin` (Debian). */
export function postgresBinDir(): string {
  const configured = process.env.PG_BIN_DIR;
  if (configured) return configured;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) throw new Error(`no PostgreSQL server binaries under ${base}: set PG_BIN_DIR`);
  return join(base, newest, 'bin');
}

/**
 * How to run a server binary: as is, or as the `postgres` user when we are root (initdb and postgres refuse
 * to run as root).
 */
async function runAs(): Promise<{
  wrap: (argv: string[]) => [string, string[]];
  owner?: { uid: number; gid: number };
}> {
  if (process.getuid?.() !== 0) return { wrap: ([file, ...args]) => [file!, args] };
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return {
    wrap: (argv) => ['runuser', ['-u', 'postgres', '--', ...argv]],
    owner: { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) },
  };
}

/**
 * Creates a cluster with `initdb` in a temporary directory (superuser `postgres`) and starts it with `pg_ctl` on a
 * free loopback port, its socket in that directory. `auth` is how TCP connections authenticate (default `trust`).
 * `settings` are extra `-c name=value` server settings. With `dir`, the cluster lives there and is kept: created
 * on the first start, started again as it is on the next (`npm start` keeps heroku-sim's app databases so).
 * Resolves once it accepts connections. Always `close()`.
 */
export async function startPostgresServer(
  options: {
    port?: number;
    settings?: Record<string, string>;
    timeoutMs?: number;
    auth?: PostgresAuth;
    dir?: string;
  } = {},
): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const { wrap, owner } = await runAs();
  const auth = options.auth ?? 'trust';
  const kept = options.dir !== undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'hds-pg-'));
  // The server's user (postgres, when we are root) must reach the directory: parents made here are world-traversable.
  mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const passwordFile = join(dir, PASSWORD_FILE);
  const logFile = join(dir, 'server.log');
  const port = options.port ?? (await freePort());
  const timeoutS = String(Math.ceil((options.timeoutMs ?? 30_000) / 1000));
  const exec = async (argv: string[]) => {
    const [file, args] = wrap(argv);
    try {
      await run(file, args, { cwd: dir });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(
        `${argv.slice(0, 2).join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}${readLog()}`,
      );
    }
  };
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const serverOptions = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    ...Object.entries(options.settings ?? {}).map(([name, value]) => `-c ${name}=${value}`),
  ].join(' ');
  const pgCtl = (...args: string[]) => exec([join(bin, 'pg_ctl'), '-D', data, '-t', timeoutS, ...args]);

  let running = false;
  const start = async () => {
    if (running) throw new Error('the PostgreSQL server is already running');
    await pgCtl('-w', '-l', logFile, '-o', serverOptions, 'start');
    running = true;
  };
  const stop = async (stopOptions: { mode?: ShutdownMode } = {}) => {
    if (!running) return;
    running = false;
    await pgCtl('-w', '-m', stopOptions.mode ?? 'fast', 'stop');
  };

  // pg_ctl daemonizes the server: should the process end without `close()` (a crash), stop it anyway.
  const stopOnExit = () => {
    if (running) {
      const [file, args] = wrap([join(bin, 'pg_ctl'), '-D', data, '-m', kept ? 'fast' : 'immediate', 'stop']);
      try {
        execFileSync(file, args, { stdio: 'ignore' });
      } catch {
        // Nothing more can be done while the process exits.
      }
    }
    if (!kept) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopOnExit);

  let password: string | undefined;
  try {
    if (!existsSync(join(data, 'PG_VERSION'))) {
      if (auth === 'scram-sha-256') {
        writeFileSync(passwordFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
        if (owner) chownSync(passwordFile, owner.uid, owner.gid);
      }
      const authArgs =
        auth === 'trust'
          ? ['-A', 'trust']
          : ['--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${passwordFile}`];
      await exec([join(bin, 'initdb'), '-D', data, '-U', 'postgres', ...authArgs, '-E', 'UTF8', '--no-sync']);
    }
    if (auth === 'scram-sha-256') password = readFileSync(passwordFile, 'utf8').trim();
    await start();
  } catch (err) {
    process.off('exit', stopOnExit);
    if (!kept) rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    port,
    url: `postgres://postgres${password === undefined ? '' : `:${password}`}@127.0.0.1:${port}/postgres`,
    auth,
    dir,
    get running() {
      return running;
    },
    stop,
    start,
    restart: async (restartOptions = {}) => {
      await stop(restartOptions);
      await start();
    },
    log: readLog,
    close: async () => {
      try {
        await stop({ mode: kept ? 'fast' : 'immediate' });
      } finally {
        process.off('exit', stopOnExit);
        if (!kept) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
