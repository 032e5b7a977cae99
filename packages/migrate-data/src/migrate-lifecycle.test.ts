// A data migration's edges, with heroku-sim's real databases: cut-over (the env var, the mappings, maintenance
// mode), what is refused (a non-empty target, a migration after a cut-over, a cancel of a finished one), a cancel
// that leaves the target as it was, and a worker killed mid-copy whose job resumes without duplicating a row.
import { randomBytes } from 'node:crypto';
import { Keyring } from '@hds/core';
import { dataMigrationTargetContext } from '@hds/db';
import { testEncryptionKeys, waitFor } from '@hds/testkit';
import { SyncError, SyncService } from '@hds/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOutboundPolicy } from '@hds/destinations';
import { MigrationService } from './service.js';
import { targetAddressCheck } from './target-address.js';
import { startMigrateRig, type MigrateRig } from './test-support/migrate-rig.js';
import { checkTable } from './verify.js';

let rig: MigrateRig;
/** Run before a table's copy: the tests below lock the source's `orders` there. */
let beforeTable: (table: string) => Promise<void> = async () => {};
beforeAll(async () => {
  rig = await startMigrateRig({ beforeTable: (table) => beforeTable(table) });
}, 60_000);
afterAll(() => rig?.close());

const HASURA = 'HASURA_GRAPHQL_DATABASE_URL';
const envValue = async (projectId: string, name: string) =>
  (await rig.sync.listEnvVars(projectId, true)).find((v) => v.name === name)?.value;

/**
 * Holds an exclusive lock on the source's `orders` from the moment its copy is about to begin until `release()`:
 * the copy's COPY waits for it.
 */
function lockOrdersWhenItsTurnComes(sourceUrl: string) {
  let lock: Promise<{ release(): Promise<void> }> | undefined;
  beforeTable = async (table) => {
    if (table === 'public.orders') await (lock = lockOrders(sourceUrl));
  };
  return {
    release: async () => {
      beforeTable = async () => {};
      await (await lock)?.release();
    },
  };
}

async function lockOrders(sourceUrl: string) {
  const sql = rig.superuser(sourceUrl);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const done = sql
    .begin(async (tx) => {
      await tx`lock table orders in access exclusive mode`;
      locked();
      await held;
    })
    .catch(() => {});
  await isLocked;
  return {
    release: async () => {
      release();
      await done;
    },
  };
}

/** Waits until the migration's COPY of `orders` waits for the lock. */
async function copyWaitingForLock(): Promise<void> {
  const admin = rig.connect(rig.cluster.url);
  await waitFor(
    async () =>
      (
        await admin`select 1 from pg_stat_activity
          where application_name = 'hds-migrate-source' and wait_event_type = 'Lock' and query like 'copy public.orders%'`
      ).length > 0,
    { what: 'the copy of orders to wait for its lock', timeoutMs: 20_000 },
  );
}

describe('cut-over', () => {
  it('points the env var at the target, stops only the DATABASE_URL mapping, and takes the app out of maintenance', async () => {
    const { projectId, app, linkId } = await rig.project({
      rows: 500,
      config: { REDIS_URL: 'redis://h:one@redis.example.com:6379' },
      mappings: { DATABASE_URL: HASURA, REDIS_URL: 'REDIS_URL' },
    });
    const targetUrl = await rig.targetDatabase();
    const started = await rig.migrations.start({ projectId, targetUrl, cutover: true, maintenance: true });
    expect(await rig.migrations.run({ migrationId: started.id, lastAttempt: true })).toEqual({ state: 'done' });

    expect(await envValue(projectId, HASURA)).toBe(targetUrl);
    expect((await rig.sync.getSyncStatus(projectId)).mappings).toEqual({ REDIS_URL: 'REDIS_URL' });
    const view = await rig.migrations.get(projectId, started.id);
    expect(view.cutoverAt).not.toBeNull();
    const audit = await rig.sync.listAudit(projectId, { limit: 10 });
    expect(audit.find((a) => a.action === 'env_cutover')).toMatchObject({ varName: HASURA, actor: 'system' });
    expect(JSON.stringify(audit)).not.toContain(new URL(targetUrl).password || 'no password');

    // Maintenance mode on for the copy, off after.
    const patches = rig.sim.requests({ method: 'PATCH', path: `/apps/` }).filter((r) => !r.path.includes('config'));
    expect(patches).toHaveLength(2);
    const current = await rig.sync.credentials.client((await rig.sync.getSyncStatus(projectId)).accountId!).getApp(app);
    expect(current).toMatchObject({ maintenance: false });

    // Heroku keeps changing: REDIS_URL still syncs, the database URL no longer does.
    await rig.sim.rotateCredentialsAsync({ app });
    rig.sim.setConfigVars({ app, vars: { REDIS_URL: 'redis://h:two@redis.example.com:6379' } });
    await rig.sync.reconcileLink(linkId, 'manual', 'test');
    expect(await envValue(projectId, 'REDIS_URL')).toBe('redis://h:two@redis.example.com:6379');
    expect(await envValue(projectId, HASURA)).toBe(targetUrl);

    // No second migration after a cut-over; a finished migration cannot be cancelled.
    const again = rig.migrations.start({ projectId, targetUrl: await rig.targetDatabase() });
    await expect(again).rejects.toMatchObject({ code: 'conflict' });
    await expect(rig.migrations.cancel(projectId, started.id)).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('refusals and cancel', () => {
  it('refuses a target with tables of the same names (invalid, nothing touched)', async () => {
    const { projectId } = await rig.project({ rows: 100 });
    const targetUrl = await rig.targetDatabase();
    await rig.connect(targetUrl)`create table customers (id int)`;
    const before = await rig.schema(targetUrl);
    const refused = await rig.migrations.start({ projectId, targetUrl }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(SyncError);
    expect(refused).toMatchObject({ code: 'invalid', message: expect.stringContaining('public.customers') });
    expect(await rig.schema(targetUrl)).toBe(before);
    expect(await rig.migrations.list(projectId)).toEqual([]);
  });

  it('refuses a private target address unless the outbound policy allows it (the destinations rule)', async () => {
    const { projectId } = await rig.project({ rows: 50 });
    const strict = new MigrationService({
      sync: rig.sync,
      settings: { checkTarget: targetAddressCheck({ policy: parseOutboundPolicy({}) }) },
    });
    for (const host of ['127.0.0.1', '10.0.0.5', '169.254.169.254', '[::1]']) {
      await expect(
        strict.start({ projectId, targetUrl: `postgres://u:p@${host}:5432/db` }),
        host,
      ).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining('targetUrl is refused') });
    }
    const listed = new MigrationService({
      sync: rig.sync,
      settings: {
        checkTarget: targetAddressCheck({ policy: parseOutboundPolicy({ allowedHosts: ['127.0.0.1/32'] }) }),
      },
    });
    const targetUrl = await rig.targetDatabase();
    await expect(listed.start({ projectId, targetUrl })).resolves.toMatchObject({ state: 'queued' });
  });

  it('a migration that cannot be queued fails at once, so the next one can start', async () => {
    const { projectId } = await rig.project({ rows: 50 });
    const unqueued = new MigrationService({
      sync: rig.sync,
      settings: { checkTarget: async () => {} },
      enqueue: () => Promise.reject(new Error('redis is down')),
    });
    await expect(unqueued.start({ projectId, targetUrl: await rig.targetDatabase() })).rejects.toThrow('redis is down');
    expect((await rig.migrations.list(projectId)).map((m) => m.state)).toEqual(['failed']);
    await expect(rig.migrations.start({ projectId, targetUrl: await rig.targetDatabase() })).resolves.toMatchObject({
      state: 'queued',
    });
  });

  it('a cancel during the copy leaves the target as it was (its own objects and rows kept)', async () => {
    const { projectId, sourceUrl } = await rig.project({ rows: 500 });
    const targetUrl = await rig.targetDatabase();
    const target = rig.connect(targetUrl);
    await target.unsafe(`create type mood as enum ('ok', 'meh');
      create table keep_me (id serial primary key, m mood);
      insert into keep_me (m) values ('ok'), ('meh');`);
    const before = await rig.schema(targetUrl);
    const started = await rig.migrations.start({ projectId, targetUrl });
    const lock = lockOrdersWhenItsTurnComes(sourceUrl);
    const run = rig.migrations.run({ migrationId: started.id, lastAttempt: true });
    await copyWaitingForLock();
    expect((await rig.migrations.get(projectId, started.id)).state).toBe('copying');
    await rig.migrations.cancel(projectId, started.id);
    expect(await run).toEqual({ state: 'cancelled', error: null });
    await lock.release();

    expect(await rig.schema(targetUrl)).toBe(before);
    expect(await target`select id, m from keep_me order by id`).toEqual([
      { id: 1, m: 'ok' },
      { id: 2, m: 'meh' },
    ]);
    await expect(rig.migrations.cancel(projectId, started.id)).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('key rotation', () => {
  it('`keys:reencrypt` moves target URLs to the new primary key too', async () => {
    const { projectId } = await rig.project({ rows: 50 });
    const targetUrl = await rig.targetDatabase();
    const started = await rig.migrations.start({ projectId, targetUrl });
    const newKey = `kid-new:${randomBytes(32).toString('base64')}`;
    const keyring = Keyring.fromSpecs([newKey, ...testEncryptionKeys]);
    const rotated = new SyncService({ ...rig.sync.ctx, keyring, heroku: rig.sync.ctx.heroku });
    const result = await rotated.reencryptCredentials();
    expect(result.migrations).toBeGreaterThanOrEqual(1);
    const [row] = await rig.database.client.sql<{ enc: string }[]>`
      select target_url_encrypted as enc from data_migrations where id = ${started.id}`;
    expect(keyring.keyIdOf(row!.enc)).toBe('kid-new');
    expect(keyring.decrypt(row!.enc, dataMigrationTargetContext(started.id))).toBe(targetUrl);
  });
});

describe('verification', () => {
  it('a row that differs fails the migration, naming the table; the target is left as it was', async () => {
    const { projectId, sourceUrl } = await rig.project({ rows: 300 });
    const targetUrl = await rig.targetDatabase();
    const before = await rig.schema(targetUrl);
    // A write on the source after its table was copied (no maintenance mode): the copy no longer matches.
    beforeTable = async (table) => {
      if (table === 'public.products')
        await rig.superuser(sourceUrl)`update "AuditEvents" set payload = '{"changed": true}' where id = 1`;
    };
    try {
      const started = await rig.migrations.start({ projectId, targetUrl });
      const result = await rig.migrations.run({ migrationId: started.id, lastAttempt: false });
      expect(result).toMatchObject({ state: 'failed', error: expect.stringContaining('public."AuditEvents"') });
      expect(result.error).toContain('checksums differ');
      expect(result.error).not.toContain('public.customers');
    } finally {
      beforeTable = async () => {};
    }
    expect(await rig.schema(targetUrl)).toBe(before);
  });
});

describe('a worker killed mid-copy', () => {
  it('its job resumes with the table it was on; tables already copied are not copied again, no row is duplicated', async () => {
    const { projectId, sourceUrl } = await rig.project({ rows: 3000 });
    const targetUrl = await rig.targetDatabase();
    const started = await rig.migrations.start({ projectId, targetUrl });
    const lock = lockOrdersWhenItsTurnComes(sourceUrl);
    const firstAttempt = rig.migrations.run({ migrationId: started.id, lastAttempt: false });
    await copyWaitingForLock();
    await waitFor(async () => (await rig.migrations.get(projectId, started.id)).tables.some((t) => t.rowsCopied > 0), {
      what: 'a table copied before the kill',
    });

    // The attempt dies mid-table: its source sessions are terminated (the target's open COPY transactions roll
    // back, as they do when the worker process itself dies and its connections close).
    const admin = rig.connect(rig.cluster.url);
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'hds-migrate-source'`;
    await expect(firstAttempt).rejects.toBeDefined();
    await lock.release();
    const interrupted = await rig.migrations.get(projectId, started.id);
    expect(interrupted.state).toBe('copying');
    expect(interrupted.tables.find((t) => t.name === 'public.orders')).toMatchObject({ rowsCopied: 0 });

    // The tables recorded as copied keep their rows: the next attempt does not copy them again.
    const target = rig.superuser(targetUrl);
    const [stored] = await rig.database.client.sql<
      { tables: { name: string; done: boolean; partitions?: unknown }[] }[]
    >`
      select tables from data_migrations where id = ${started.id}`;
    const doneBefore = stored!.tables.filter((t) => t.done && !t.partitions).map((t) => t.name);
    expect(doneBefore.length).toBeGreaterThan(0);
    const xmins = async (table: string) =>
      (await target.unsafe<{ x: string }[]>(`select min(xmin::text::int8)::text as x from ${table}`))[0]?.x;
    const stamped = await Promise.all(doneBefore.map(async (name) => [name, await xmins(name)] as const));
    for (const [name, xmin] of stamped) expect(xmin, name).not.toBeNull();

    expect(await rig.migrations.run({ migrationId: started.id, lastAttempt: true })).toEqual({ state: 'done' });
    for (const [name, xmin] of stamped) expect(await xmins(name), name).toBe(xmin);
    const source = rig.superuser(sourceUrl);
    for (const table of ['public.orders', 'public.order_items', 'public.customers', 'public."AuditEvents"'])
      expect(await checkTable(target, table), table).toEqual(await checkTable(source, table));
  });
});
