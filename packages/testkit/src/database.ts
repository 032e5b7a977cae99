import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDb, migrationsFolder, runMigrations, type DbClient } from '@hds/db';
import postgres from 'postgres';
import { databaseUrl, testServices, uniqueName } from './config.js';

const TEMPLATE_ENV = 'HDS_TEST_PG_TEMPLATE';

async function migrationsHash(): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else hash.update(entry.name).update(await readFile(path));
    }
  };
  await walk(migrationsFolder);
  return hash.digest('hex').slice(0, 12);
}

function admin(): postgres.Sql {
  return postgres(testServices.pgAdminUrl, { max: 1, onnotice: () => {} });
}

/**
 * Makes sure a migrated template database exists for the current migrations and returns its name.
 * Named by a hash of the migration files, so a schema change gets a new template and reruns reuse it.
 */
export async function prepareTemplateDatabase(): Promise<string> {
  const name = `hds_tpl_${await migrationsHash()}`;
  const sql = admin();
  try {
    const [exists] = await sql`select 1 from pg_database where datname = ${name} and datistemplate`;
    if (!exists) {
      const building = `${name}_build_${process.pid}`;
      await sql`drop database if exists ${sql(building)} with (force)`;
      await sql`create database ${sql(building)}`;
      await runMigrations({ databaseUrl: databaseUrl(building) });
      // Rename into place atomically; a concurrent run that got there first wins and ours is dropped.
      try {
        await sql`alter database ${sql(building)} rename to ${sql(name)}`;
        await sql`update pg_database set datistemplate = true where datname = ${name}`;
      } catch {
        await sql`drop database if exists ${sql(building)} with (force)`;
      }
    }
  } finally {
    await sql.end();
  }
  process.env[TEMPLATE_ENV] = name;
  return name;
}

export interface TestDatabase {
  name: string;
  url: string;
  client: DbClient;
  /** Closes the client and drops the database. */
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file (a copy of the template: milliseconds, not a migration run). */
export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const template = process.env[TEMPLATE_ENV] ?? (await prepareTemplateDatabase());
  const name = uniqueName('hds_test');
  const sql = admin();
  try {
    await sql`create database ${sql(name)} template ${sql(template)}`;
  } finally {
    await sql.end();
  }
  const url = databaseUrl(name);
  const client = createDb({ url, max: options.poolSize ?? 5, applicationName: 'hds-test' });
  return {
    name,
    url,
    client,
    drop: async () => {
      await client.close();
      const dropper = admin();
      try {
        await dropper`drop database if exists ${dropper(name)} with (force)`;
      } finally {
        await dropper.end();
      }
    },
  };
}
