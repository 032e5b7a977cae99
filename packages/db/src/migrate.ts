import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

/** Resolves to packages/db/drizzle from both src/ (tests) and dist/ (built code). */
export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));

/** Arbitrary constant: the advisory lock every migrator takes, so concurrent runs apply migrations once. */
const MIGRATION_LOCK_KEY = 7_301_942_215;

/**
 * Applies the committed migrations. Idempotent, and safe when several run at once: each takes a session
 * advisory lock on a single connection, so the second waits and then finds nothing left to do.
 */
export async function runMigrations(options: { databaseUrl: string }): Promise<{ applied: number }> {
  const sql = postgres(options.databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      const before = await countApplied(sql);
      await migrate(drizzle({ client: sql }), { migrationsFolder });
      return { applied: (await countApplied(sql)) - before };
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function countApplied(sql: postgres.Sql): Promise<number> {
  const [table] = await sql<
    { name: string | null }[]
  >`select to_regclass('drizzle.__drizzle_migrations')::text as name`;
  if (!table?.name) return 0;
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
  return row?.n ?? 0;
}
