import { databaseUrl, testServices, uniqueName } from '@hds/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from './migrate.js';
import { auditActions } from './schema.js';

const admin = postgres(testServices.pgAdminUrl, { max: 1, onnotice: () => {} });
const name = uniqueName('hds_migrate');
const url = databaseUrl(name);

beforeAll(async () => {
  await admin`create database ${admin(name)}`;
});
afterAll(async () => {
  await admin`drop database if exists ${admin(name)} with (force)`;
  await admin.end();
});

describe('runMigrations', () => {
  it('applies every migration once when several run at the same time', async () => {
    const results = await Promise.all([1, 2, 3].map(() => runMigrations({ databaseUrl: url })));
    const total = results.reduce((sum, r) => sum + r.applied, 0);
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [journal] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      expect(total).toBe(journal!.n);
      expect(results.filter((r) => r.applied > 0)).toHaveLength(1);
      const tables = await sql<{ table_name: string }[]>`
        select table_name from information_schema.tables where table_schema = 'public' order by table_name`;
      expect(tables.map((t) => t.table_name)).toEqual([
        'audit_log',
        'data_migrations',
        'deliveries',
        'delivery_attempts',
        'destinations',
        'heroku_accounts',
        'heroku_links',
        'project_env_vars',
        'project_tokens',
        'projects',
        'webhook_cleanups',
        'webhook_events',
      ]);
    } finally {
      await sql.end();
    }
  });

  it('is a no-op when the schema is up to date', async () => {
    expect(await runMigrations({ databaseUrl: url })).toEqual({ applied: 0 });
  });

  it('makes the audit log append-only', async () => {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [project] = await sql<{ id: string }[]>`insert into projects (name) values ('p') returning id`;
      await sql`insert into audit_log (project_id, action, actor) values (${project!.id}, 'env_set', 'tester')`;
      await expect(sql`update audit_log set actor = 'someone else'`).rejects.toThrow(/append-only/);
      await expect(sql`delete from audit_log`).rejects.toThrow(/append-only/);
      await expect(sql`truncate audit_log`).rejects.toThrow(/append-only/);
      const [count] = await sql<{ n: number }[]>`select count(*)::int as n from audit_log`;
      expect(count!.n).toBe(1);
    } finally {
      await sql.end();
    }
  });

  it('accepts only the known audit actions (auditActions)', async () => {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [project] = await sql<{ id: string }[]>`insert into projects (name) values ('p') returning id`;
      for (const action of auditActions) {
        await sql`insert into audit_log (project_id, action, actor) values (${project!.id}, ${action}, 'tester')`;
      }
      await expect(
        sql`insert into audit_log (project_id, action, actor) values (${project!.id}, 'env_synched', 'tester')`,
      ).rejects.toThrow(/audit_log_action_check/);
    } finally {
      await sql.end();
    }
  });
});
