// Moving off Heroku through the built stack: the admin API queues a data migration on the `data-migrations` queue,
// a worker process copies the Heroku database (heroku-sim's real one) to a target, verifies it and cuts over; a
// worker killed with SIGKILL mid-copy has its job taken over by another, which resumes without duplicating a row.
import postgres from 'postgres';
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
afterEach(async () => {
  await Promise.all(clients.splice(0).map((sql) => sql.end({ timeout: 1 })));
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
  return { s, app, project, targetUrl: target.href, sourceAsSuperuser: source.href };
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
  it('is queued by the API, run by a worker, verified, and cuts over: the env var points at the target', async () => {
    const { s, project, targetUrl, sourceAsSuperuser } = await setUp('migrate', 3000);
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
    const holder = connect(sourceAsSuperuser);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const lock = holder
      .begin(async (tx) => {
        await eventually(
          'the migration to reach its rows',
          async () => (await migration(project.id, started.body.id)).state === 'copying',
          60_000,
        );
        await tx`lock table products in access exclusive mode`;
        locked();
        await released;
      })
      .catch(() => {});
    await isLocked;
    const admin = connect(s.simDatabases!.adminUrl);
    await eventually(
      'the copy of products to wait for its lock',
      async () =>
        (
          await admin`select 1 from pg_stat_activity
            where application_name = 'hds-migrate-source' and wait_event_type = 'Lock' and query like 'copy public.products%'`
        ).length > 0,
      30_000,
    );
    const worker = s.workers()[0]!;
    expect((await s.kill(worker.name)).signal).toBe('SIGKILL');
    release();
    await lock;
    const interrupted = await migration(project.id, started.body.id);
    expect(interrupted.state).toBe('copying');

    await s.startWorker();
    const done = await finished(project.id, started.body.id);
    expect(done).toMatchObject({ state: 'done', error: null });
    for (const table of ['customers', 'products', 'orders', 'order_items', '"AuditEvents"'])
      expect(await count(targetUrl, table), table).toBe(await count(sourceAsSuperuser, table));
  });
});
