// A data migration's edges, with heroku-sim's real databases: cut-over (the env var, the mappings, maintenance
// mode), what is refused (a non-empty target, a migration after a cut-over, a cancel of a finished one), a cancel
// that leaves the target as it was, and a worker killed mid-copy whose job resumes without duplicating a row.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** The maintenance values the app was PATCHed with, in order (as the sim received them). */
const maintenancePatches = (app: { app: string; appId: string }) =>
  rig.maintenancePatches.filter((p) => p.app === app.appId || p.app === app.app).map((p) => p.maintenance);

/** The app as Heroku (the sim's Platform API) shows it now. */
async function herokuApp(projectId: string, app: string) {
  return rig.sync.credentials.client((await rig.sync.getSyncStatus(projectId)).accountId!).getApp(app);
}

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

/** Ends every source session of the migration's attempts, as a worker that dies mid-copy loses them. */
async function terminateSourceSessions(): Promise<void> {
  await rig.connect(rig.cluster.url)`
    select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'hds-migrate-source'`;
}

describe('the local pg_dump', () => {
  /** An executable that answers `--version` as pg_dump 9.6 does (and would fail at anything else). */
  function oldPgDump(): string {
    const bin = join(mkdtempSync(join(tmpdir(), 'hds-old-pg-dump-')), 'pg_dump');
    writeFileSync(bin, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n");
    chmodSync(bin, 0o755);
    return bin;
  }
  const sourceMajor = async (url: string) => {
    const [row] = await rig.connect(url)<{ v: string }[]>`select current_setting('server_version_num') as v`;
    return Math.floor(Number(row!.v) / 10_000);
  };
  const needed = (major: number) =>
    `the source database runs PostgreSQL ${major} and the local pg_dump is 9: pg_dump ${major} or newer is needed`;

  it('older than the source: the start is refused (invalid: a 422), saying which pg_dump is needed; nothing recorded, nothing touched', async () => {
    const project = await rig.project({ rows: 50 });
    const targetUrl = await rig.targetDatabase();
    const before = await rig.schema(targetUrl);
    const withOldPgDump = new MigrationService({
      sync: rig.sync,
      settings: { pgDumpBin: oldPgDump(), checkTarget: async () => {} },
      enqueue: () => Promise.reject(new Error('nothing may be queued')),
    });
    const refused = await withOldPgDump
      .start({ projectId: project.projectId, targetUrl, maintenance: true, cutover: true })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(SyncError);
    expect(refused).toMatchObject({ code: 'invalid', message: needed(await sourceMajor(project.sourceUrl)) });
    expect(await rig.migrations.list(project.projectId)).toEqual([]);
    expect(await rig.schema(targetUrl)).toBe(before);
    expect(maintenancePatches(project)).toEqual([]);
    expect((await rig.sync.listAudit(project.projectId, { limit: 50 })).map((a) => a.action)).not.toContain(
      'migration_started',
    );
  });

  it('older on the worker than on the admin: the run fails at its preflight with the same message; the target and the app untouched', async () => {
    const project = await rig.project({ rows: 50 });
    const targetUrl = await rig.targetDatabase();
    const before = await rig.schema(targetUrl);
    const started = await rig.migrations.start({ projectId: project.projectId, targetUrl, maintenance: true });
    const worker = new MigrationService({
      sync: rig.sync,
      settings: { pgDumpBin: oldPgDump(), checkTarget: async () => {} },
    });
    // Retrying cannot fix it: the first attempt ends the migration.
    expect(await worker.run({ migrationId: started.id, lastAttempt: false })).toEqual({
      state: 'failed',
      error: needed(await sourceMajor(project.sourceUrl)),
    });
    expect(await rig.schema(targetUrl)).toBe(before);
    expect(maintenancePatches(project)).toEqual([]);
  });
});

describe('maintenance mode', () => {
  it('a failed verification takes the app out of it: PATCHed true before the copy, false after', async () => {
    const project = await rig.project({ rows: 300 });
    const { projectId, sourceUrl, app } = project;
    const targetUrl = await rig.targetDatabase();
    const before = await rig.schema(targetUrl);
    let duringCopy: { maintenance: unknown; patches: unknown[] } | undefined;
    beforeTable = async (table) => {
      if (table !== 'public.products') return;
      duringCopy = { maintenance: (await herokuApp(projectId, app)).maintenance, patches: maintenancePatches(project) };
      // A write on the source after its table was copied (maintenance mode does not stop the database).
      await rig.superuser(sourceUrl)`update "AuditEvents" set payload = '{"changed": true}' where id = 1`;
    };
    try {
      const started = await rig.migrations.start({ projectId, targetUrl, maintenance: true });
      const result = await rig.migrations.run({ migrationId: started.id, lastAttempt: false });
      expect(result).toMatchObject({ state: 'failed', error: expect.stringContaining('checksums differ') });
    } finally {
      beforeTable = async () => {};
    }
    expect(duringCopy).toEqual({ maintenance: true, patches: [true] });
    expect(maintenancePatches(project)).toEqual([true, false]);
    expect(await herokuApp(projectId, app)).toMatchObject({ maintenance: false });
    expect(await rig.schema(targetUrl)).toBe(before);
  });

  it('a cancel takes the app out of it too', async () => {
    const project = await rig.project({ rows: 500 });
    const { projectId, sourceUrl, app } = project;
    const targetUrl = await rig.targetDatabase();
    const before = await rig.schema(targetUrl);
    const started = await rig.migrations.start({ projectId, targetUrl, maintenance: true });
    const lock = lockOrdersWhenItsTurnComes(sourceUrl);
    const run = rig.migrations.run({ migrationId: started.id, lastAttempt: false });
    await copyWaitingForLock();
    expect(await herokuApp(projectId, app)).toMatchObject({ maintenance: true });
    expect(maintenancePatches(project)).toEqual([true]);
    await rig.migrations.cancel(projectId, started.id);
    expect(await run).toEqual({ state: 'cancelled', error: null });
    await lock.release();
    expect(maintenancePatches(project)).toEqual([true, false]);
    expect(await herokuApp(projectId, app)).toMatchObject({ maintenance: false });
    expect(await rig.schema(targetUrl)).toBe(before);
  });
});

describe('a migration nothing runs any more', () => {
  /**
   * Starts a migration with maintenance mode and ends its attempt mid-copy as a dead worker's ends (not its last,
   * so no clean-up ran): it stays `copying`, the app in maintenance mode, the target half written.
   */
  async function interruptedMidCopy(options: { rows?: number } = {}) {
    const project = await rig.project({ rows: options.rows ?? 500 });
    const targetUrl = await rig.targetDatabase();
    const before = await rig.schema(targetUrl);
    const started = await rig.migrations.start({ projectId: project.projectId, targetUrl, maintenance: true });
    const lock = lockOrdersWhenItsTurnComes(project.sourceUrl);
    const attempt = rig.migrations.run({ migrationId: started.id, lastAttempt: false });
    await copyWaitingForLock();
    await terminateSourceSessions();
    await expect(attempt).rejects.toBeDefined();
    await lock.release();
    expect((await rig.migrations.get(project.projectId, started.id)).state).toBe('copying');
    expect(await rig.schema(targetUrl)).not.toBe(before);
    expect(await herokuApp(project.projectId, project.app)).toMatchObject({ maintenance: true });
    return { ...project, targetUrl, before, migrationId: started.id };
  }

  it('its job failed for good (stalled too often): ended as failed, out of maintenance, the target as it was; starts and runs behave', async () => {
    const m = await interruptedMidCopy();
    // Before: the project is blocked.
    await expect(
      rig.migrations.start({ projectId: m.projectId, targetUrl: await rig.targetDatabase() }),
    ).rejects.toMatchObject({
      code: 'conflict',
    });
    const reason = 'its job failed for good: job stalled more than allowable limit';
    expect(await rig.migrations.endOrphaned(m.migrationId, reason)).toEqual({ state: 'failed', error: reason });
    expect(await rig.migrations.get(m.projectId, m.migrationId)).toMatchObject({ state: 'failed', error: reason });
    expect(maintenancePatches(m)).toEqual([true, false]);
    expect(await herokuApp(m.projectId, m.app)).toMatchObject({ maintenance: false });
    expect(await rig.schema(m.targetUrl)).toBe(m.before);

    // Ending it again changes nothing; a cancel is a 409; a job that runs it again (retried from Bull Board) finds
    // it ended; the project takes a new migration.
    expect(await rig.migrations.endOrphaned(m.migrationId, 'again')).toEqual({ state: 'failed', error: reason });
    await expect(rig.migrations.cancel(m.projectId, m.migrationId)).rejects.toMatchObject({ code: 'conflict' });
    expect(await rig.migrations.run({ migrationId: m.migrationId, lastAttempt: true })).toEqual({
      state: 'failed',
      error: reason,
    });
    expect(maintenancePatches(m)).toEqual([true, false]);
    await expect(rig.migrations.start({ projectId: m.projectId, targetUrl: m.targetUrl })).resolves.toMatchObject({
      state: 'queued',
    });
  });

  it('its job is gone from the queue: a cancel ends it at once (cancelled, cleaned up); while the job lives, a cancel only asks', async () => {
    const m = await interruptedMidCopy();
    let alive = true;
    const admin = new MigrationService({
      sync: rig.sync,
      settings: { checkTarget: async () => {} },
      jobAlive: async () => alive,
    });
    expect(await admin.cancel(m.projectId, m.migrationId)).toMatchObject({ state: 'copying' });
    expect(await herokuApp(m.projectId, m.app)).toMatchObject({ maintenance: true });
    alive = false;
    expect(await admin.cancel(m.projectId, m.migrationId)).toMatchObject({ state: 'cancelled', error: null });
    expect(maintenancePatches(m)).toEqual([true, false]);
    expect(await herokuApp(m.projectId, m.app)).toMatchObject({ maintenance: false });
    expect(await rig.schema(m.targetUrl)).toBe(m.before);
    await expect(admin.cancel(m.projectId, m.migrationId)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('its job is gone from the queue: a start ends it once it is older than the grace period, and goes ahead', async () => {
    const m = await interruptedMidCopy();
    const admin = (orphanGraceMs?: number) =>
      new MigrationService({
        sync: rig.sync,
        settings: { checkTarget: async () => {} },
        jobAlive: async () => false,
        ...(orphanGraceMs === undefined ? {} : { orphanGraceMs }),
      });
    // Within the grace period (default a minute) its job may be being queued right now: 409 as before.
    await expect(
      admin().start({ projectId: m.projectId, targetUrl: await rig.targetDatabase() }),
    ).rejects.toMatchObject({
      code: 'conflict',
    });
    const next = await admin(0).start({ projectId: m.projectId, targetUrl: await rig.targetDatabase() });
    expect(next).toMatchObject({ state: 'queued' });
    expect(await rig.migrations.get(m.projectId, m.migrationId)).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('its job is gone from the queue'),
    });
    expect(maintenancePatches(m)).toEqual([true, false]);
    expect(await herokuApp(m.projectId, m.app)).toMatchObject({ maintenance: false });
    expect(await rig.schema(m.targetUrl)).toBe(m.before);
  });

  it('an attempt still running when its migration is ended elsewhere stops, drops what it created and never cuts over', async () => {
    const project = await rig.project({ rows: 500, mappings: { DATABASE_URL: HASURA } });
    const { projectId, sourceUrl } = project;
    const urlBefore = await envValue(projectId, HASURA);
    const targetUrl = await rig.targetDatabase();
    const before = await rig.schema(targetUrl);
    const started = await rig.migrations.start({ projectId, targetUrl, maintenance: true, cutover: true });
    const lock = lockOrdersWhenItsTurnComes(sourceUrl);
    // A worker that lost its job's lock but not its connections.
    const zombie = rig.migrations.run({ migrationId: started.id, lastAttempt: true });
    await copyWaitingForLock();
    const reason = 'its job failed for good: job stalled more than allowable limit';
    expect(await rig.migrations.endOrphaned(started.id, reason)).toEqual({ state: 'failed', error: reason });
    await lock.release();
    expect(await zombie).toEqual({ state: 'failed', error: reason });

    expect(await rig.migrations.get(projectId, started.id)).toMatchObject({ state: 'failed', cutoverAt: null });
    expect(await envValue(projectId, HASURA)).toBe(urlBefore);
    expect(await rig.schema(targetUrl)).toBe(before);
    const patches = maintenancePatches(project);
    // On once; off by the ending and (again) by the attempt's own clean-up.
    expect(patches[0]).toBe(true);
    expect(new Set(patches.slice(1))).toEqual(new Set([false]));
    expect(await herokuApp(projectId, project.app)).toMatchObject({ maintenance: false });
  });
});

describe('a copy interrupted mid-table', () => {
  it('the table it was streaming is copied again from its start: no row twice, counts and checksums equal, verified', async () => {
    const { projectId, sourceUrl } = await rig.project({ rows: 500 });
    // A table of its own, large enough to be caught with part of its rows streamed; no key, so that nothing but
    // the copy itself keeps a row from going in twice.
    await rig.connect(sourceUrl).unsafe(`
      create table zz_bulk (id bigint not null, payload text not null);
      insert into zz_bulk select g, repeat(md5(g::text), 3) from generate_series(1, 60000) g;
      analyze zz_bulk`);
    const targetUrl = await rig.targetDatabase();
    const target = rig.superuser(targetUrl);
    // The target takes zz_bulk's rows slowly (a pause every 500 rows), so its copy is seen half way.
    beforeTable = async (table) => {
      if (table !== 'public.zz_bulk') return;
      await target.unsafe(`
        create function public.slow_rows() returns trigger language plpgsql as $$
        begin if new.id % 500 = 0 then perform pg_sleep(0.02); end if; return new; end $$;
        create trigger slow before insert on public.zz_bulk for each row execute function public.slow_rows()`);
    };
    const started = await rig.migrations.start({ projectId, targetUrl });
    const firstAttempt = rig.migrations.run({ migrationId: started.id, lastAttempt: false });
    // Half way as the target sees it (the rows it has taken in, not those sent: loopback's socket buffers can hold
    // all of them while the target is still at work).
    await waitFor(
      async () => {
        const [copy] = await target<{ n: number }[]>`
          select tuples_processed::int as n from pg_stat_progress_copy
           where relid = 'public.zz_bulk'::regclass and command = 'COPY FROM'`;
        return copy && copy.n > 0 && copy.n < 60_000 ? copy.n : undefined;
      },
      { what: 'the target to have taken part of zz_bulk', timeoutMs: 20_000, intervalMs: 10 },
    );
    // The attempt dies mid-stream: its sessions on both sides end (the source may have sent every row already;
    // the target's open COPY transaction rolls back), as when the worker process dies.
    await rig.connect(rig.cluster.url)`
      select pg_terminate_backend(pid) from pg_stat_activity
       where application_name in ('hds-migrate-source', 'hds-migrate-target')`;
    await expect(firstAttempt).rejects.toBeDefined();
    beforeTable = async () => {};

    const [stored] = await rig.database.client.sql<
      { tables: { name: string; rows: number; rowsCopied: number; done: boolean }[] }[]
    >`
      select tables from data_migrations where id = ${started.id}`;
    const bulk = stored!.tables.find((t) => t.name === 'public.zz_bulk')!;
    expect(bulk.done).toBe(false);
    expect(bulk.rowsCopied).toBeGreaterThan(0);
    // Its rows went in one transaction, rolled back with the attempt: none is on the target.
    expect(await target`select count(*)::int as n from zz_bulk`).toEqual([{ n: 0 }]);

    await target.unsafe('drop trigger slow on public.zz_bulk; drop function public.slow_rows()');
    expect(await rig.migrations.run({ migrationId: started.id, lastAttempt: true })).toEqual({ state: 'done' });
    const source = rig.superuser(sourceUrl);
    expect(await target`select count(*)::int as n, count(distinct id)::int as ids from zz_bulk`).toEqual([
      { n: 60_000, ids: 60_000 },
    ]);
    for (const table of ['public.zz_bulk', 'public.orders', 'public.customers', 'public."AuditEvents"'])
      expect(await checkTable(target, table), table).toEqual(await checkTable(source, table));
    const view = await rig.migrations.get(projectId, started.id);
    expect(view.tables.find((t) => t.name === 'public.zz_bulk')).toMatchObject({ rows: 60_000, rowsCopied: 60_000 });
    expect(await rig.schema(targetUrl)).toBe(await rig.schema(sourceUrl));
  });
});
