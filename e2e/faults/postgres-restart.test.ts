// Postgres restarts (pg_ctl restart -m fast) while the worker is inside its commits: the interrupted transactions
// roll back, the jobs retry, every link ends on its app's newest release, and nothing was committed in part.
// The restart is real: a private PostgreSQL cluster (packages/testkit startPostgresServer) the stack runs on.
import { startPostgresServer, startStack, type PostgresServer, type SimApp, type Stack } from '@hds/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appName, eventually } from '../support/use-stack.js';
import { auditConsistency, commitsWaitingOnLock } from './support/commit-checks.js';

const APPS = 4;

let pg: PostgresServer | undefined;
let stack: Stack | undefined;
let sql: postgres.Sql | undefined;

beforeAll(async () => {
  pg = await startPostgresServer();
  // No scheduled reconcile: only the retried jobs can bring the links up to date.
  stack = await startStack({
    namePrefix: 'hds_pgfault',
    pgAdminUrl: pg.url,
    database: 'migrate',
    workerEnv: { RECONCILE_TICK_MS: '3600000' },
  });
  sql = postgres(stack.database.url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await stack?.close();
  await pg?.close();
});
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    if (stack) console.log(`logs of the stack's processes:\n${stack.logs({ tail: 60 })}`);
    if (pg) console.log(`postgres log:\n${pg.log().split('\n').slice(-40).join('\n')}`);
  });
});

interface Linked {
  app: SimApp;
  projectId: string;
}

async function linkApps(s: Stack): Promise<Linked[]> {
  const simAccount = await s.sim.createAccount({ email: 'pg-restart@example.com' });
  const account = await s.admin.addAccount(simAccount.apiKey);
  const linked: Linked[] = [];
  for (let i = 0; i < APPS; i += 1) {
    const app = await s.sim.createApp({ name: appName('pgrestart'), accountId: simAccount.id });
    const project = await s.admin.createProject({ name: app.name, heroku: { accountId: account.id, app: app.name } });
    linked.push({ app, projectId: project.id });
  }
  return linked;
}

async function allOnRelease(s: Stack, linked: Linked[], urls: string[]): Promise<boolean> {
  const values = await Promise.all(linked.map((l) => s.admin.envValue(l.projectId)));
  return values.every((value, i) => value === urls[i]);
}

describe('Postgres restarted while the worker commits', () => {
  it('rolls the interrupted commits back, retries the jobs, and ends every link on its newest release', async () => {
    const s = stack!;
    const db = sql!;
    const linked = await linkApps(s);
    const first = await Promise.all(linked.map((l) => s.sim.rotateCredentials(l.app.name)));
    await eventually('the first rotation of every app', () =>
      allOnRelease(
        s,
        linked,
        first.map((r) => r.databaseUrl),
      ),
    );

    // Catch every commit in the middle: a session of the test's holds a SHARE lock on audit_log, so each commit
    // (one transaction in hds_commit_release) writes the env var, then waits to insert its audit row. A session of
    // its own, opened with a plain BEGIN: postgres.js's `begin` crashes the process when the restart closes its
    // connection (porsager/postgres#1208).
    const blocker = postgres(s.database.url, { max: 1, onnotice: () => {} });
    await blocker.unsafe('begin');
    await blocker.unsafe('lock table audit_log in share mode');
    const second = await Promise.all(linked.map((l) => s.sim.rotateCredentials(l.app.name)));
    const newest = await Promise.all(linked.map((l) => s.sim.rotateCredentials(l.app.name)));
    const caught = await eventually(
      'a commit of every app to wait inside its transaction',
      async () => {
        const waiting = await commitsWaitingOnLock(db);
        return waiting >= APPS && waiting;
      },
      20_000,
    );
    expect(caught).toBe(APPS);
    // Not one of the burst's releases is visible yet: every commit is still open. Read from the database: revealing
    // a value through the API writes an audit row (issue 13), which waits for the lock too.
    const applied = await db<{ project_id: string; applied_version: number }[]>`
      select project_id, applied_version from heroku_links where project_id in ${db(linked.map((l) => l.projectId))}`;
    expect(new Map(applied.map((r) => [r.project_id, r.applied_version]))).toEqual(
      new Map(linked.map((l, i) => [l.projectId, first[i]!.version])),
    );

    const restartStarted = performance.now();
    await pg!.restart({ mode: 'fast' });
    const restartMs = performance.now() - restartStarted;
    await blocker.end({ timeout: 1 });

    // Right after the restart nothing is half-written: each env var is the one its last audit row describes.
    expect(await auditConsistency(db)).toEqual({ inconsistencies: [] });

    await eventually(
      'every app’s newest rotation to be applied after the restart',
      () =>
        allOnRelease(
          s,
          linked,
          newest.map((r) => r.databaseUrl),
        ),
      30_000,
    );
    for (const [i, l] of linked.entries()) {
      expect(await s.admin.syncStatus(l.projectId)).toMatchObject({
        state: 'active',
        lastReleaseVersion: newest[i]!.version,
      });
    }
    const consistency = await auditConsistency(db);
    expect(consistency).toEqual({ inconsistencies: [] });

    // Each link's audit trail: created at enable, the first rotation, then the burst's release(s) applied after
    // the restart, each exactly once, ending on the newest.
    for (const [i, l] of linked.entries()) {
      const synced = (await s.admin.audit(l.projectId)).filter((e) => e.action === 'env_synced').reverse();
      const versions = synced.map((e) => e.releaseVersion!);
      expect(versions.slice(1, 2)).toEqual([first[i]!.version]);
      expect(versions.at(-1)).toBe(newest[i]!.version);
      expect(new Set(versions).size).toBe(versions.length);
      expect(versions.slice(2).every((v) => v === second[i]!.version || v === newest[i]!.version)).toBe(true);
    }

    // Every event was settled, none left half-processed.
    const [unsettled] = await db<{ n: number }[]>`select count(*)::int as n from webhook_events where outcome is null`;
    expect(unsettled).toEqual({ n: 0 });

    // The jobs were retried by BullMQ (the worker kept running): the interrupted commits failed, then succeeded.
    const worker = s.process('worker-1');
    expect(worker.running).toBe(true);
    const retried = worker.logLines.filter(
      (line) => line.includes('"job failed; it will be retried"') && line.includes('"release-event"'),
    );
    expect(retried.length).toBeGreaterThanOrEqual(APPS);
    expect(retried.join('\n')).toMatch(/terminating connection due to administrator command|CONNECTION_CLOSED/);
    console.log(`postgres restart took ${Math.round(restartMs)} ms; ${retried.length} release jobs retried`);
  });
});
