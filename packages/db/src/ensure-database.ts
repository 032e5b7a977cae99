import postgres from 'postgres';

/** Creates the database named in `databaseUrl` if it does not exist (connecting to `postgres` to do so). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (name === '') throw new Error('DATABASE_URL names no database');
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const sql = postgres(maintenance.href, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const [exists] = await sql`select 1 from pg_database where datname = ${name}`;
    if (exists) return false;
    try {
      await sql`create database ${sql(name)}`;
    } catch (err) {
      // Another process created it first.
      if ((err as { code?: string }).code !== '42P04') throw err;
    }
    return true;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
