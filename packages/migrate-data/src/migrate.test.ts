// Moving off Heroku with heroku-sim's real databases: a seeded Heroku Postgres (foreign keys, sequences, indexes, a
// view, an enum, jsonb, bytea, a quoted mixed-case table; plus a materialized view, a row-rewriting trigger,
// partitions and a free sequence) copied to a target database and verified on both sides.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTable } from './verify.js';
import { startMigrateRig, type MigrateRig } from './test-support/migrate-rig.js';

let rig: MigrateRig;
beforeAll(async () => {
  rig = await startMigrateRig();
}, 60_000);
afterAll(() => rig?.close());

const leafTables = async (url: string) =>
  (
    await rig.connect(url)<{ name: string }[]>`
      select format('%I.%I', n.nspname, c.relname) as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where c.relkind = 'r' and n.nspname = 'public' order by 1`
  ).map((r) => r.name);

describe('a data migration', () => {
  it('copies schema and rows: schema dumps equal, every checksum equal, sequences continue, materialized views populated, triggers did not fire', async () => {
    const { projectId, sourceUrl } = await rig.project({ rows: 2000 });
    const targetUrl = await rig.targetDatabase();
    const started = await rig.migrations.start({ projectId, targetUrl });
    expect(started).toMatchObject({
      state: 'queued',
      target: expect.not.stringContaining(new URL(targetUrl).password || '@@'),
    });
    expect(started.rows).toBeGreaterThan(2000);

    const result = await rig.migrations.run({ migrationId: started.id, lastAttempt: true });
    expect(result).toEqual({ state: 'done' });

    expect(await rig.schema(targetUrl)).toBe(await rig.schema(sourceUrl));
    const tables = await leafTables(sourceUrl);
    expect(tables).toEqual(expect.arrayContaining(['public."AuditEvents"', 'public."Events_2025"', 'public.orders']));
    const source = rig.connect(sourceUrl);
    const target = rig.connect(targetUrl);
    for (const table of tables) expect(await checkTable(target, table)).toEqual(await checkTable(source, table));

    // The trigger exists on the target, and did not rewrite the copied rows.
    expect(await target`select count(*)::int as n from orders where note = 'rewritten by the trigger'`).toEqual([
      { n: 0 },
    ]);
    expect(await target`select count(*)::int as n from pg_trigger where tgname = 'orders_stamp'`).toEqual([{ n: 1 }]);
    // Materialized view populated as in the source.
    expect(await target`select * from order_counts order by status`).toEqual(
      await source`select * from order_counts order by status`,
    );
    // Every sequence continues where the source's would.
    for (const seq of ['customers_id_seq', 'invoice_numbers', '"AuditEvents_id_seq"', '"Events_id_seq"']) {
      const [a] = await source.unsafe(`select nextval('${seq}')::text as v`);
      const [b] = await target.unsafe(`select nextval('${seq}')::text as v`);
      expect(b, seq).toEqual(a);
    }

    const view = await rig.migrations.get(projectId, started.id);
    expect(view).toMatchObject({ state: 'done', error: null, cutoverAt: null });
    expect(view.rowsCopied).toBe(view.rows);
    const events = view.tables.find((t) => t.name === 'public."Events"')!;
    expect(events.partitions!.map((p) => p.name)).toEqual(['public."Events_2025"', 'public."Events_2026"']);
    expect(events.rowsCopied).toBe(500);
    expect(view.tables.map((t) => t.name)).not.toContain('public."Events_2025"');
  });
});
