import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { startPostgresServer, type PostgresServer } from './postgres-server.js';

/**
 * A private cluster for heroku-sim's app databases: password authentication (`scram-sha-256`), so a rotated-away
 * URL is really refused (the machine's own server trusts local connections, and the sim refuses to run on it).
 * `fsync` is off: dropping a database checkpoints, which would take seconds on a shared disk. Always `close()`.
 */
export function startSimPostgres(options: { port?: number } = {}): Promise<PostgresServer> {
  return startPostgresServer({ auth: 'scram-sha-256', settings: { fsync: 'off' }, ...options });
}

/** A fresh `SIM_POSTGRES_PREFIX` (lowercase and short: role names stay readable). */
export const simPostgresPrefix = (): string => `hsim_${randomBytes(4).toString('hex')}`;

/** Drops every database and role named `<prefix>_…` on the server (what one sim made). */
export async function dropSimDatabases(input: { adminUrl: string; prefix: string }): Promise<void> {
  const sql = postgres(input.adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const like = `${input.prefix}\\_%`;
    const databases = await sql<{ name: string }[]>`select datname as name from pg_database where datname like ${like}`;
    for (const { name } of databases) await sql`drop database if exists ${sql(name)} with (force)`;
    const roles = await sql<{ name: string }[]>`select rolname as name from pg_roles where rolname like ${like}`;
    for (const { name } of roles) await sql`drop role if exists ${sql(name)}`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export interface PostgresClients {
  /** A client of one connection to `url` (short connect timeout), ended by `closeAll`. */
  connect(url: string): postgres.Sql;
  /**
   * Ends every client made so far, with a timeout: postgres.js waits forever to end a connection the server ended
   * (as a rotation does).
   */
  closeAll(): Promise<void>;
}

/** Clients for tests that connect with the URLs heroku-sim hands out; `closeAll()` after each test. */
export function postgresClients(): PostgresClients {
  const opened: postgres.Sql[] = [];
  return {
    connect(url) {
      const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
      opened.push(sql);
      return sql;
    },
    async closeAll() {
      await Promise.all(opened.splice(0).map((sql) => sql.end({ timeout: 1 })));
    },
  };
}

/** How a client sees its session ended by the server: 57P01, or the connection closing under the query. */
export const SESSION_TERMINATED_CODES: readonly string[] = ['57P01', 'CONNECTION_CLOSED'];
