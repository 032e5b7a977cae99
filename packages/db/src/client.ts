import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import * as schema from './schema.js';

export type Database = PostgresJsDatabase<typeof schema> & { $client: Sql };
/** A transaction handle; functions that must run inside the caller's transaction take this. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
export type DbOrTx = Database | Transaction;

export interface DbClient {
  db: Database;
  sql: Sql;
  close(): Promise<void>;
}

export interface CreateDbOptions {
  url: string;
  /** Pool size. */
  max?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

export function createDb(options: CreateDbOptions): DbClient {
  const sql = postgres(options.url, {
    max: options.max ?? 10,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    // No catalog query of postgres.js's own on each new connection: it drops that query's promise, so a server
    // ending the connection during it (a restart, a failover) crashes the process with an unhandled rejection
    // (porsager/postgres#1192, #1223). The query only teaches the driver array types, and no query here sends or
    // reads a Postgres array (jsonb arrays are not). So a JS array is not a valid parameter: send a list as text,
    // e.g. `id::text = any(string_to_array(${ids.join(',')}, ','))`.
    fetch_types: false,
    connection: { application_name: options.applicationName ?? 'heroku-db-sync' },
  });
  const db = drizzle({ client: sql, schema });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

/** Readiness check: the database answers a trivial query. */
export async function pingDb(sql: Sql): Promise<void> {
  await sql`select 1`;
}
