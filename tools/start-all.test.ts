import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  createTestRedis,
  databaseUrl,
  freePort,
  startProcess,
  tcpProbe,
  testServices,
  uniqueName,
  waitFor,
  type RunningProcess,
  type TestRedis,
} from '@hds/testkit';

const APPS = ['ingress', 'admin', 'worker', 'heroku-sim'] as const;
const SEED_KEY = 'local-heroku-api-key';

/** `npm start` as a newcomer runs it: the built apps, one prefixed log stream, Ctrl-C stops everything. */
describe('npm start (tools/start-all.js)', () => {
  const database = uniqueName('hds_start_all');
  const simState = `${database}_sim`;
  // Where npm start keeps the sim's private PostgreSQL (the server runs as postgres when the tests run as root).
  const simParent = mkdtempSync(join(tmpdir(), 'hds-start-all-'));
  chmodSync(simParent, 0o755);
  const simDir = join(simParent, 'sim-postgres');
  const fileRoot = join(simParent, 'destination-files');
  let redis: TestRedis | undefined;
  let started: RunningProcess | undefined;

  afterAll(async () => {
    // Ctrl-C first, so npm start stops its PostgreSQL; a kill if that does not end it.
    if (started?.running) {
      const timer = setTimeout(() => started?.child.kill('SIGKILL'), 20_000);
      await started.stop('SIGINT').finally(() => clearTimeout(timer));
    }
    await redis?.cleanup();
    const sql = postgres(testServices.pgAdminUrl, { max: 1, onnotice: () => {} });
    await sql.unsafe(`drop database if exists "${database}" with (force)`);
    await sql.unsafe(`drop database if exists "${simState}" with (force)`);
    await sql.end();
    if (!existsSync(join(simDir, 'data', 'postmaster.pid'))) rmSync(simParent, { recursive: true, force: true });
  });

  /** The seeded account's apps through the sim's Platform API. */
  async function seededApps(port: number) {
    const headers = { authorization: `Bearer ${SEED_KEY}`, accept: 'application/vnd.heroku+json; version=3' };
    const apps = (await (await fetch(`http://127.0.0.1:${port}/apps`, { headers })).json()) as Array<{
      id: string;
      name: string;
    }>;
    const config = await Promise.all(
      apps.map(
        async (app) =>
          (await (await fetch(`http://127.0.0.1:${port}/apps/${app.name}/config-vars`, { headers })).json()) as {
            DATABASE_URL: string;
          },
      ),
    );
    return apps.map((app, i) => ({ id: app.id, name: app.name, databaseUrl: config[i]!.DATABASE_URL }));
  }

  it('migrates, runs all four apps with real app databases, stops everything on Ctrl-C, and a second start keeps the apps', async () => {
    assertBuilt({ entries: APPS.map((app) => `apps/${app}/dist/main.js`) });
    redis = await createTestRedis();
    const ports = Object.fromEntries(await Promise.all(APPS.map(async (app) => [app, await freePort()] as const)));
    const simPostgresPort = await freePort();
    const start = () =>
      startProcess({
        name: 'npm start',
        args: ['tools/start-all.js'],
        env: {
          DATABASE_URL: databaseUrl(database),
          SIM_STATE_URL: databaseUrl(simState),
          SIM_POSTGRES_DIR: simDir,
          SIM_POSTGRES_PORT: String(simPostgresPort),
          REDIS_URL: testServices.redisUrl,
          QUEUE_PREFIX: redis!.prefix,
          INGRESS_PORT: String(ports.ingress),
          ADMIN_PORT: String(ports.admin),
          WORKER_PORT: String(ports.worker),
          HEROKU_SIM_PORT: String(ports['heroku-sim']),
          FILE_DESTINATIONS_ROOT: fileRoot,
          LOG_FORMAT: 'json',
          FORCE_COLOR: '0',
        },
      });
    const allUp = async (run: RunningProcess) => {
      await run.waitForLine((line) => line.includes('database ready'), { timeoutMs: 30_000 });
      for (const app of APPS) {
        await waitFor(async () => (await fetch(`http://127.0.0.1:${ports[app]}/healthz`)).status === 200, {
          timeoutMs: 30_000,
          what: `${app} /healthz 200 on port ${ports[app]}`,
        });
      }
    };
    const ctrlC = async (run: RunningProcess) => {
      const result = await run.stop('SIGINT');
      expect(result.signal === null || result.signal === 'SIGINT').toBe(true);
      for (const app of APPS) {
        await expect(fetch(`http://127.0.0.1:${ports[app]}/healthz`)).rejects.toThrow();
      }
      // Its PostgreSQL stopped too, and said where the data stays.
      expect(await tcpProbe(simPostgresPort)).toBe('ECONNREFUSED');
      expect(run.lines.some((line) => line.includes(`its data stays in ${simDir}`))).toBe(true);
    };

    started = start();
    await allUp(started);
    // The start-up line names the console's address and, with the local development settings, its password.
    await started.waitForLine(
      (line) => line.includes(`console: http://localhost:${ports.admin}/ (user admin, password local-admin-token)`),
      { timeoutMs: 5_000 },
    );
    // File destinations have a directory to write to.
    expect(started.lines).toContain(`file destinations write under ${fileRoot}`);
    expect(existsSync(fileRoot)).toBe(true);
    // One log stream, each line prefixed with the app that wrote it.
    for (const app of APPS) {
      await started.waitForLine((line) => new RegExp(`^${app} +\\{"level"`).test(line), { timeoutMs: 5_000 });
    }
    // The seeded apps' databases are real, on the private cluster, and it checks passwords.
    const apps = await seededApps(ports['heroku-sim']!);
    expect(apps.map((a) => a.name).sort()).toEqual(['sushi-prod', 'sushi-staging']);
    for (const app of apps) {
      const url = new URL(app.databaseUrl);
      expect(url.port).toBe(String(simPostgresPort));
      const sql = postgres(app.databaseUrl, { max: 1, onnotice: () => {} });
      expect(await sql`select current_user as me`).toEqual([{ me: url.username }]);
      await sql.end();
      url.password = 'wrong';
      const wrong = postgres(url.href, { max: 1, onnotice: () => {} });
      await expect(wrong`select 1`).rejects.toMatchObject({ code: '28P01' });
      await wrong.end();
    }

    // Ctrl-C: the terminal sends SIGINT; every app shuts down cleanly and the ports are released.
    await ctrlC(started);
    for (const app of APPS) {
      // Each app ran its own shutdown (closed its server, queues and connections) before it exited.
      expect(started.lines.some((line) => new RegExp(`^${app} +\\{.*"msg":"stopped"`).test(line))).toBe(true);
      expect(started.lines.some((line) => new RegExp(`^${app} +node .* exited with code`).test(line))).toBe(true);
    }

    // Started again, the sim has the same apps (same ids) and their URLs still connect.
    started = start();
    await allUp(started);
    const again = await seededApps(ports['heroku-sim']!);
    expect(again).toEqual(apps);
    for (const app of again) {
      const sql = postgres(app.databaseUrl, { max: 1, onnotice: () => {} });
      expect(await sql`select 1 as ok`).toEqual([{ ok: 1 }]);
      await sql.end();
    }
    await ctrlC(started);
  }, 120_000);
});
