import { spawn } from 'node:child_process';
import { SyncError } from '@hds/sync';

/** How pg_dump is run: the binary (`PG_DUMP_PATH`, default `pg_dump` on the PATH). */
export interface PgDumpOptions {
  bin?: string;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${bin} exited with ${code}: ${Buffer.concat(err).toString('utf8').trim().slice(0, 500)}`));
    });
  });
}

/** The local pg_dump's major version, e.g. 17 for `pg_dump (PostgreSQL) 17.6 (Debian 17.6-0+deb13u1)`. */
export async function pgDumpMajor(options: PgDumpOptions = {}): Promise<number> {
  const bin = options.bin ?? 'pg_dump';
  let text: string;
  try {
    text = await run(bin, ['--version'], { PATH: process.env.PATH });
  } catch (err) {
    throw new SyncError('invalid', `pg_dump is not installed here (${bin}); install postgresql-client`, { cause: err });
  }
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(text);
  if (!match?.[1]) throw new Error(`cannot read pg_dump's version from ${JSON.stringify(text.slice(0, 100))}`);
  return Number(match[1]);
}

/** pg_dump reads servers of its own major version and older: refuses a newer source, saying which version is needed. */
export function checkPgDumpVersion(options: { pgDump: number; source: number }): void {
  if (options.pgDump < options.source) {
    throw new SyncError(
      'invalid',
      `the source database runs PostgreSQL ${options.source} and the local pg_dump is ${options.pgDump}: ` +
        `pg_dump ${options.source} or newer is needed`,
    );
  }
}

/** libpq's environment for a `postgres://` URL: the password never appears on a command line. */
export function libpqEnv(url: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PGHOST: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: decodeURIComponent(u.pathname.slice(1)),
    PGCONNECT_TIMEOUT: '10',
  };
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

export type DumpSection = 'pre-data' | 'post-data';

/** A database's schema (`pg_dump --schema-only --no-owner --no-acl`), or one section of it. */
export async function dumpSchema(options: PgDumpOptions & { url: string; section?: DumpSection }): Promise<string> {
  const section = options.section ? [`--section=${options.section}`] : [];
  return run(options.bin ?? 'pg_dump', ['--schema-only', '--no-owner', '--no-acl', ...section], libpqEnv(options.url));
}

/**
 * A dump without psql's meta-commands: `\restrict`/`\unrestrict` (pg_dump ≥ 15.14, 16.10, 17.6 add them with a
 * random key, so dumps of identical databases differ) and any other backslash line, which the server cannot run.
 */
export function withoutMetaCommands(dump: string): string {
  return dump
    .split('\n')
    .filter((line) => !line.startsWith('\\'))
    .join('\n');
}
