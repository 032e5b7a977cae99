// Moving off Heroku through the built stack: the admin API queues a data migration on the `data-migrations` queue,
// a worker process copies the Heroku database (heroku-sim's real one) to a target, verifies it and cuts over (a
// webhook destination delivers the new value); a worker killed with SIGKILL mid-copy, even half way through a
// table, has its job taken over by another, which resumes without duplicating a row. A job BullMQ gives up (stalled
// too often) or that is gone ends its migration, cleaned up, instead of blocking the project; an admin whose
// pg_dump is too old for the source refuses the start.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWebhookReceiver, testServices } from '@hds/testkit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { appName, eventually, useStack } from './support/use-stack.js';

const HASURA = 'HASURA_GRAPHQL_DATABASE_URL';
const allowPrivate = { DESTINATIONS_ALLOW_PRIVATE: 'true' };
const stack = useStack({
  realDatabases: true,
  // A dead worker's job is taken over within seconds.
  workerEnv: {
    RECONCILE_TICK_MS: '3600000',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    ...allowPrivate,
  },
  env: { admin: allowPrivate },
});

const clients: postgres.Sql[] = [];
const connect = (url: string) => {
  const sql = postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 5 });
  clients.push(sql);
  return sql;
};
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((sql) => sql.end({ timeout: 1 })));
  await Promise.all(closers.splice(0).map((close) => close()));
});

interface MigrationAnswer {
  id: string;
  state: string;
  rows: number;
  rowsCopied: number;
  tables: { name: string; rows: number; rowsCopied: number }[];
  error: string | null;
}

async function setUp(name: string, rows: number) {
  const s = stack();
  const owner = await s.sim.createAccount({ email: `${name}@example.com` });
  const app = await s.sim.createApp({ name: appName(name), accountId: owner.id });
  await s.sim.seed(app.name, { rows });
  const account = await s.admin.addAccount(owner.apiKey);
  const project = await s.admin.createProject({ name, heroku: { accountId: account.id, app: app.name } });
  const { adminUrl, prefix } = s.simDatabases!;
  const targetName = `${prefix}_${name}_target`;
  await connect(adminUrl).unsafe(`create database "${targetName}"`);
  const target = new URL(adminUrl);
  target.pathname = `/${targetName}`;
  const source = new URL(adminUrl);
  source.pathname = new URL(app.databaseUrl).pathname;
  /** Whether the app is in maintenance mode now, as Heroku (the sim's Platform API) shows it. */
  const maintenance = async () => {
    const answer = await fetch(`${s.simUrl}/apps/${app.name}`, {
      headers: { authorization: `Bearer ${owner.apiKey}`, accept: 'application/vnd.heroku+json; version=3' },
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { maintenance: boolean }).maintenance;
  };
  /** The PATCHes of the app (maintenance mode on or off) the sim answered. */
  const patches = async () =>
    (await s.sim.requests({ method: 'PATCH' })).filter(
      (r) => r.path === `/apps/${app.id}` || r.path === `/apps/${app.name}`,
    );
  return { s, app, project, targetUrl: target.href, sourceAsSuperuser: source.href, maintenance, patches };
}

/** What the target holds outside the system schemas: relations, types, routines, schemas (none when clean). */
async function targetObjects(url: string): Promise<string[]> {
  const rows = await connect(url)<{ what: string }[]>`
    select 'relation ' || c.oid::regclass::text as what from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp)'
    union all
    select 'type ' || t.oid::regtype::text from pg_type t join pg_namespace n on n.oid = t.typnamespace
     where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp)' and t.typtype <> 'c'
       and t.typelem = 0 and t.typrelid = 0
    union all
    select 'routine ' || p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp)'
    union all
    select 'schema ' || nspname from pg_namespace
     where nspname not in ('pg_catalog', 'information_schema', 'public') and nspname !~ '^pg_(toast|temp)'
    order by 1`;
  return rows.map((r) => r.what);
}

/**
 * Holds the migration at a known point: once it copies rows, an exclusive lock on the source's `products` (copied
 * last of the seed's tables) keeps its COPY waiting, with other tables copied. `release()` lets it go on.
 */
async function holdCopyOfProducts(options: { projectId: string; migrationId: string; sourceAsSuperuser: string }) {
  const holder = connect(options.sourceAsSuperuser);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const lock = holder
    .begin(async (tx) => {
      await eventually(
        'the migration to reach its rows',
        async () => (await migration(options.projectId, options.migrationId)).state === 'copying',
        60_000,
      );
      await tx`lock table products in access exclusive mode`;
      locked();
      await released;
    })
    .catch(() => {});
  await isLocked;
  const admin = connect(stack().simDatabases!.adminUrl);
  await eventually(
    'the copy of products to wait for its lock',
    async () =>
      (
        await admin`select 1 from pg_stat_activity
          where application_name = 'hds-migrate-source' and wait_event_type = 'Lock' and query like 'copy public.products%'`
      ).length > 0,
    30_000,
  );
  return {
    release: async () => {
      release();
      await lock;
    },
  };
}

/** The `data-migrations` queue as BullMQ sees it (the stack's Redis prefix). */
function migrationsQueue(): { queue: Queue; redis: Redis } {
  const redis = new Redis(testServices.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('data-migrations', { connection: redis, prefix: stack().redisPrefix });
  closers.push(async () => {
    await queue.close();
    redis.disconnect();
  });
  return { queue, redis };
}

const migration = async (projectId: string, id: string) =>
  (await stack().admin.http.request<MigrationAnswer>('GET', `/api/projects/${projectId}/migrations/${id}`)).body;

async function finished(projectId: string, id: string): Promise<MigrationAnswer> {
  let last: MigrationAnswer | undefined;
  await eventually(
    'the migration to finish',
    async () => {
      const answer = await migration(projectId, id);
      last = answer;
      return ['done', 'failed', 'cancelled'].includes(answer.state);
    },
    60_000,
  );
  if (!last) throw new Error('no answer');
  return last;
}

const count = async (url: string, table: string) =>
  (await connect(url).unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`))[0]?.n;

describe('a data migration through the stack', () => {
  it('is queued by the API, run by a worker, verified, and cuts over: the env var points at the target, and a webhook destination delivers it', async () => {
    const { s, project, targetUrl, sourceAsSuperuser } = await setUp('migrate', 3000);
    // A webhook destination with the value in its body: it gets the current value at once, then the cut-over's.
    const receiver = await startWebhookReceiver();
    closers.push(() => receiver.close());
    const destination = await s.admin.http.expect<{ id: string; secret: string }>(
      'POST',
      `/api/projects/${project.id}/destinations`,
      { status: 201, body: { kind: 'webhook', url: receiver.url, includeValue: true } },
    );
    const herokuUrl = await s.admin.envValue(project.id, HASURA);
    await receiver.waitFor(1, 15_000);

    const started = await s.admin.http.request<MigrationAnswer>('POST', `/api/projects/${project.id}/migrations`, {
      targetUrl,
      cutover: true,
    });
    expect(started.status).toBe(202);
    const done = await finished(project.id, started.body.id);
    expect(done).toMatchObject({ state: 'done', error: null });
    expect(done.rowsCopied).toBe(done.rows);
    expect(await s.admin.envValue(project.id, HASURA)).toBe(targetUrl);
    expect((await s.admin.syncStatus(project.id)).mappings).toEqual({});

    // The destination delivers the cut-over like any other change: signed, the new value, no Heroku release.
    const received = await receiver.waitFor(2, 30_000);
    const bodies = received.map((r) => {
      new Webhook(destination.secret).verify(r.body, r.headers as Record<string, string>);
      return JSON.parse(r.body) as {
        type: string;
        data: { name: string; value?: string; releaseVersion: number | null };
      };
    });
    expect(bodies[0]).toMatchObject({ type: 'env_var.updated', data: { name: HASURA, value: herokuUrl } });
    expect(bodies.filter((b) => b.data.value === targetUrl)).toHaveLength(1);
    expect(bodies.at(-1)).toMatchObject({
      type: 'env_var.updated',
      data: { name: HASURA, value: targetUrl, releaseVersion: null },
    });
    const deliveries = await s.admin.http.expect<{ deliveries: { status: string }[] }>(
      'GET',
      `/api/projects/${project.id}/destinations/${destination.id}/deliveries?limit=10`,
      { status: 200 },
    );
    expect(new Set(deliveries.deliveries.map((d) => d.status))).toEqual(new Set(['delivered']));
    for (const table of ['customers', 'orders', '"AuditEvents"'])
      expect(await count(targetUrl, table), table).toBe(await count(sourceAsSuperuser, table));

    // The console's page: a progress bar overall and one per table.
    const page = await fetch(`${s.adminUrl}/projects/${project.id}/migrations/${started.body.id}`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${s.adminToken}`).toString('base64')}` },
    });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('data-testid="overall-progress" data-percent="100"');
    expect(html.match(/data-testid="table-progress"/g)?.length).toBe(done.tables.length);

    // Bull Board shows the job, done, with its progress; its data holds the migration's id only.
    const board = await fetch(`${s.adminUrl}/admin/queues/api/queues?activeQueue=data-migrations&status=completed`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${s.adminToken}`).toString('base64')}` },
    });
    const queues = (await board.json()) as {
      queues: { name: string; jobs: { id: string; data: unknown; progress: unknown }[] }[];
    };
    const job = queues.queues.find((q) => q.name === 'data-migrations')?.jobs.find((j) => j.id === started.body.id);
    expect(job?.data).toEqual({ migrationId: started.body.id });
    expect(job?.progress).toMatchObject({ state: 'copying', percent: 100 });
    expect(JSON.stringify(queues)).not.toContain(new URL(targetUrl).password || 'no password');

    // A second migration after the cut-over: 409.
    const again = await s.admin.http.request('POST', `/api/projects/${project.id}/migrations`, { targetUrl });
    expect(again.status).toBe(409);
  });

  it('a worker killed mid-copy: another takes the job over and resumes; no row is duplicated', async () => {
    const { s, project, targetUrl, sourceAsSuperuser } = await setUp('killed', 300_000);
    const started = await s.admin.http.request<MigrationAnswer>('POST', `/api/projects/${project.id}/migrations`, {
      targetUrl,
    });
    expect(started.status).toBe(202);
    // `products` is copied last (two tables at a time, in name order): holding a lock on it from the moment the
    // rows start keeps the copy at a known point, with other tables copied.
    const held = await holdCopyOfProducts({ projectId: project.id, migrationId: started.body.id, sourceAsSuperuser });
    const worker = s.workers()[0]!;
    expect((await s.kill(worker.name)).signal).toBe('SIGKILL');
    await held.release();
    const interrupted = await migration(project.id, started.body.id);
    expect(interrupted.state).toBe('copying');

    await s.startWorker();
    const done = await finished(project.id, started.body.id);
    expect(done).toMatchObject({ state: 'done', error: null });
    for (const table of ['customers', 'products', 'orders', 'order_items', '"AuditEvents"'])
      expect(await count(targetUrl, table), table).toBe(await count(sourceAsSuperuser, table));
  });
});

describe('a worker killed half way through a table', () => {
  it('the job is taken over and copies that table again from its start: no row twice, counts and checksums equal', async () => {
    const { s, app, project, targetUrl, sourceAsSuperuser } = await setUp('midtable', 2000);
    // A table of the app's own, large enough to be caught half copied (no key: nothing but the copy keeps a row
    // from going in twice), copied last (name order).
    await connect(app.databaseUrl).unsafe(`
      create table zz_bulk (id bigint not null, payload text not null);
      insert into zz_bulk select g, repeat(md5(g::text), 3) from generate_series(1, 100000) g;
      analyze zz_bulk`);
    // The target takes zz_bulk's rows slowly (a pause every 500 rows): a trigger attached as the migration creates
    // the table (an event trigger, there before the migration, so never dropped by it).
    await connect(targetUrl).unsafe(`
      create function public.slow_rows() returns trigger language plpgsql as $$
      begin if new.id % 500 = 0 then perform pg_sleep(0.02); end if; return new; end $$;
      create function public.attach_slow_rows() returns event_trigger language plpgsql as $$
      declare r record;
      begin
        for r in select * from pg_event_trigger_ddl_commands() where object_identity = 'public.zz_bulk' loop
          execute 'create trigger slow before insert on public.zz_bulk for each row execute function public.slow_rows()';
        end loop;
      end $$;
      create event trigger attach_slow_rows on ddl_command_end when tag in ('CREATE TABLE')
        execute function public.attach_slow_rows()`);
    const started = await s.admin.http.request<MigrationAnswer>('POST', `/api/projects/${project.id}/migrations`, {
      targetUrl,
    });
    expect(started.status).toBe(202);
    const bulk = (answer: MigrationAnswer) => answer.tables.find((t) => t.name === 'public.zz_bulk');
    const partial = await eventually(
      'zz_bulk to be part copied',
      async () => {
        const table = bulk(await migration(project.id, started.body.id));
        return table && table.rowsCopied > 0 && table.rowsCopied < table.rows ? table : undefined;
      },
      60_000,
    );
    expect((await s.kill(s.workers()[0]!.name)).signal).toBe('SIGKILL');
    const interrupted = await migration(project.id, started.body.id);
    expect(interrupted.state).toBe('copying');
    expect(bulk(interrupted)!.rowsCopied).toBeGreaterThanOrEqual(partial.rowsCopied);
    expect(bulk(interrupted)!.rowsCopied).toBeLessThan(100_000);
    // The dead worker's transaction rolls back: none of zz_bulk's rows is on the target. (The trigger goes, so that
    // the next worker copies at full speed.)
    const target = connect(targetUrl);
    await target`drop trigger slow on public.zz_bulk`;
    expect(await target`select count(*)::int as n from zz_bulk`).toEqual([{ n: 0 }]);

    await s.startWorker();
    const done = await finished(project.id, started.body.id);
    expect(done).toMatchObject({ state: 'done', error: null });
    expect(bulk(done)).toMatchObject({ rows: 100_000, rowsCopied: 100_000 });
    const check = async (url: string, table: string) =>
      (
        await connect(url).unsafe<{ n: number; sum: string }[]>(
          `select count(*)::int as n, coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text as sum
             from ${table} t`,
        )
      )[0];
    expect(await check(targetUrl, 'zz_bulk')).toEqual(await check(sourceAsSuperuser, 'zz_bulk'));
    expect(await target`select count(*)::int as n, count(distinct id)::int as ids from zz_bulk`).toEqual([
      { n: 100_000, ids: 100_000 },
    ]);
    for (const table of ['customers', 'orders', 'order_items'])
      expect(await check(targetUrl, table), table).toEqual(await check(sourceAsSuperuser, table));
  });
});

describe('a migration whose job BullMQ gives up or loses', () => {
  it('stalled more often than allowed: the worker that fails the job ends the migration, out of maintenance, the target clean; the project takes a new one', async () => {
    const m = await setUp('stalled', 20_000);
    const { s, project } = m;
    const objectsBefore = await targetObjects(m.targetUrl);
    const started = await s.admin.http.request<MigrationAnswer>('POST', `/api/projects/${project.id}/migrations`, {
      targetUrl: m.targetUrl,
      maintenance: true,
    });
    expect(started.status).toBe(202);
    const id = started.body.id;
    const held = await holdCopyOfProducts({
      projectId: project.id,
      migrationId: id,
      sourceAsSuperuser: m.sourceAsSuperuser,
    });
    expect(await m.maintenance()).toBe(true);
    expect(await m.patches()).toHaveLength(1);
    expect((await s.kill(s.workers()[0]!.name)).signal).toBe('SIGKILL');
    await held.release();

    // The job has stalled as often as the workers allow (maxStalledCount 2): its next stall fails it.
    const { queue, redis } = migrationsQueue();
    await redis.hset(`${s.redisPrefix}:data-migrations:${id}`, 'stc', '2');
    await s.startWorker();
    const ended = await finished(project.id, id);
    expect(ended).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('job stalled more than allowable limit'),
    });
    expect(await queue.getJobState(id)).toBe('failed');
    // Ended first (so that nothing else may run it), cleaned up right after.
    await eventually('the app out of maintenance mode', async () => !(await m.maintenance()));
    expect((await m.patches()).map((p) => p.status)).toEqual([200, 200]);
    await eventually(
      'the target cleaned up',
      async () => (await targetObjects(m.targetUrl)).length === objectsBefore.length,
    );
    expect(await targetObjects(m.targetUrl)).toEqual(objectsBefore);

    // A cancel is a 409 (it has ended); a new migration starts and runs.
    const cancel = await s.admin.http.request('POST', `/api/projects/${project.id}/migrations/${id}/cancel`);
    expect(cancel.status).toBe(409);
    const next = await s.admin.http.request<MigrationAnswer>('POST', `/api/projects/${project.id}/migrations`, {
      targetUrl: m.targetUrl,
    });
    expect(next.status).toBe(202);
    expect(await finished(project.id, next.body.id)).toMatchObject({ state: 'done', error: null });
  });

  it('removed from the queue: a cancel ends the migration at once, out of maintenance, the target clean', async () => {
    const m = await setUp('removed', 20_000);
    const { s, project } = m;
    const objectsBefore = await targetObjects(m.targetUrl);
    const started = await s.admin.http.request<MigrationAnswer>('POST', `/api/projects/${project.id}/migrations`, {
      targetUrl: m.targetUrl,
      maintenance: true,
    });
    const id = started.body.id;
    const held = await holdCopyOfProducts({
      projectId: project.id,
      migrationId: id,
      sourceAsSuperuser: m.sourceAsSuperuser,
    });
    expect((await s.kill(s.workers()[0]!.name)).signal).toBe('SIGKILL');
    await held.release();
    // Once the dead worker's lock lapses, the job can be removed (as from Bull Board): nothing will run it.
    const { queue } = migrationsQueue();
    await eventually('the job to be removed', async () => (await queue.remove(id)) === 1, 15_000);
    expect(await queue.getJobState(id)).toBe('unknown');
    expect(await targetObjects(m.targetUrl)).not.toEqual(objectsBefore);
    expect(await m.maintenance()).toBe(true);

    const cancel = await s.admin.http.request<MigrationAnswer>(
      'POST',
      `/api/projects/${project.id}/migrations/${id}/cancel`,
    );
    expect(cancel.status).toBe(202);
    expect(cancel.body).toMatchObject({ state: 'cancelled', error: null });
    expect(await m.maintenance()).toBe(false);
    expect(await m.patches()).toHaveLength(2);
    expect(await targetObjects(m.targetUrl)).toEqual(objectsBefore);
    const again = await s.admin.http.request('POST', `/api/projects/${project.id}/migrations/${id}/cancel`);
    expect(again.status).toBe(409);
    await s.startWorker();
  });
});

describe("the admin's pg_dump", () => {
  it('older than the source (PG_DUMP_PATH): the start is a 422 saying which pg_dump is needed; nothing recorded, the target untouched', async () => {
    const m = await setUp('oldpgdump', 100);
    const { s, project } = m;
    const bin = join(mkdtempSync(join(tmpdir(), 'hds-old-pg-dump-')), 'pg_dump');
    writeFileSync(bin, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n");
    chmodSync(bin, 0o755);
    const [version] = await connect(m.sourceAsSuperuser)<
      { v: string }[]
    >`select current_setting('server_version_num') as v`;
    const major = Math.floor(Number(version!.v) / 10_000);
    const objectsBefore = await targetObjects(m.targetUrl);
    await s.restart('admin', { env: { PG_DUMP_PATH: bin } });
    try {
      const refused = await s.admin.http.request<{ error: { code: string; message: string } }>(
        'POST',
        `/api/projects/${project.id}/migrations`,
        { targetUrl: m.targetUrl, maintenance: true, cutover: true },
      );
      expect(refused.status).toBe(422);
      expect(refused.body.error.message).toBe(
        `the source database runs PostgreSQL ${major} and the local pg_dump is 9: pg_dump ${major} or newer is needed`,
      );
      const list = await s.admin.http.request<{ migrations: unknown[] }>(
        'GET',
        `/api/projects/${project.id}/migrations`,
      );
      expect(list.body.migrations).toEqual([]);
      expect(await targetObjects(m.targetUrl)).toEqual(objectsBefore);
      expect(await m.patches()).toEqual([]);
    } finally {
      await s.restart('admin', { env: { PG_DUMP_PATH: 'pg_dump' } });
    }
  });
});
