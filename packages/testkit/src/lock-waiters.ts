import type postgres from 'postgres';
import { waitFor } from './wait.js';

/**
 * Waits until at least `count` sessions of `sql`'s database (its own session aside) wait for a lock, and returns
 * their pids. Works inside a transaction too: the statistics views are a snapshot there, cleared at each look.
 */
export function waitForLockWaiters(
  sql: postgres.Sql | postgres.TransactionSql,
  options: { count?: number; what: string },
): Promise<number[]> {
  return waitFor(
    async () => {
      await sql`select pg_stat_clear_snapshot()`;
      const rows = await sql<{ pid: number }[]>`
        select pid from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
      return rows.length >= (options.count ?? 1) ? rows.map((row) => row.pid) : undefined;
    },
    { what: options.what },
  );
}
