import postgres from 'postgres';
import { testServices, uniqueName } from './config.js';
import { createTestDatabase } from './database.js';
import { startBuiltProcess } from './process.js';

/** The built migration CLI (`npm run db:migrate`). */
export const MIGRATE_CLI = 'packages/db/dist/migrate-cli.js';

export interface StackDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** `url` with another database name. */
export function withDatabase(url: string, name: string): string {
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.href;
}

/** Drops the database `url` names (ending its sessions), connecting to `postgres` on the same server. */
export async function dropDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const sql = postgres(withDatabase(url, 'postgres'), { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql`drop database if exists ${sql(name)} with (force)`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * A fresh database for a stack.
 * - `template` (tests): a copy of the migrated test template on the test server.
 * - `migrate` (the demo): created empty on `pgAdminUrl`'s server and migrated by the built migration CLI
 *   (`npm run db:migrate`), so no template is left behind.
 */
export async function createStackDatabase(options: {
  mode: 'template' | 'migrate';
  pgAdminUrl?: string;
  prefix?: string;
}): Promise<StackDatabase> {
  if (options.mode === 'template') {
    if (options.pgAdminUrl !== undefined && options.pgAdminUrl !== testServices.pgAdminUrl) {
      throw new Error('a template copy is made on the test server only: use mode "migrate" for another server');
    }
    const database = await createTestDatabase({ poolSize: 1 });
    return { name: database.name, url: database.url, drop: () => database.drop() };
  }
  const adminUrl = options.pgAdminUrl ?? testServices.pgAdminUrl;
  const name = uniqueName(options.prefix ?? 'hds_stack');
  const url = withDatabase(adminUrl, name);
  const admin = () => postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const drop = async () => {
    const sql = admin();
    try {
      await sql`drop database if exists ${sql(name)} with (force)`;
    } finally {
      await sql.end({ timeout: 5 });
    }
  };
  const sql = admin();
  try {
    await sql`create database ${sql(name)}`;
  } finally {
    await sql.end({ timeout: 5 });
  }
  const migrate = await startBuiltProcess(MIGRATE_CLI, { DATABASE_URL: url }).exited;
  if (migrate.code !== 0) {
    await drop();
    throw new Error(`migrations failed (exit ${migrate.code ?? migrate.signal})\n${migrate.stdout}${migrate.stderr}`);
  }
  return { name, url, drop };
}
