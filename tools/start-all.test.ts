import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  createTestRedis,
  databaseUrl,
  freePort,
  startProcess,
  testServices,
  uniqueName,
  waitFor,
  type RunningProcess,
  type TestRedis,
} from '@hds/testkit';

const APPS = ['ingress', 'admin', 'worker', 'heroku-sim'] as const;

/** `npm start` as a newcomer runs it: the built apps, one prefixed log stream, Ctrl-C stops everything. */
describe('npm start (tools/start-all.js)', () => {
  const database = uniqueName('hds_start_all');
  let redis: TestRedis | undefined;
  let started: RunningProcess | undefined;

  afterAll(async () => {
    await started?.stop('SIGKILL');
    await redis?.cleanup();
    const sql = postgres(testServices.pgAdminUrl, { max: 1, onnotice: () => {} });
    await sql.unsafe(`drop database if exists "${database}" with (force)`);
    await sql.end();
  });

  it('creates and migrates the database, brings all four apps up (/healthz 200), and stops them all on Ctrl-C', async () => {
    assertBuilt({ entries: APPS.map((app) => `apps/${app}/dist/main.js`) });
    redis = await createTestRedis();
    const ports = Object.fromEntries(await Promise.all(APPS.map(async (app) => [app, await freePort()] as const)));
    started = startProcess({
      name: 'npm start',
      args: ['tools/start-all.js'],
      env: {
        DATABASE_URL: databaseUrl(database),
        REDIS_URL: testServices.redisUrl,
        QUEUE_PREFIX: redis.prefix,
        INGRESS_PORT: String(ports.ingress),
        ADMIN_PORT: String(ports.admin),
        WORKER_PORT: String(ports.worker),
        HEROKU_SIM_PORT: String(ports['heroku-sim']),
        LOG_FORMAT: 'json',
        FORCE_COLOR: '0',
      },
    });
    await started.waitForLine((line) => line.includes('database ready'), { timeoutMs: 30_000 });
    for (const app of APPS) {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${ports[app]}/healthz`)).status === 200, {
        timeoutMs: 30_000,
        what: `${app} /healthz 200 on port ${ports[app]}`,
      });
    }
    // The start-up line names the console's address and, with the local development settings, its password.
    await started.waitForLine(
      (line) => line.includes(`console: http://localhost:${ports.admin}/ (user admin, password local-admin-token)`),
      { timeoutMs: 5_000 },
    );
    // One log stream, each line prefixed with the app that wrote it.
    for (const app of APPS) {
      await started.waitForLine((line) => new RegExp(`^${app} +\\{"level"`).test(line), { timeoutMs: 5_000 });
    }

    // Ctrl-C: the terminal sends SIGINT; every app shuts down cleanly and the ports are released.
    const result = await started.stop('SIGINT');
    expect(result.signal === null || result.signal === 'SIGINT').toBe(true);
    for (const app of APPS) {
      await expect(fetch(`http://127.0.0.1:${ports[app]}/healthz`)).rejects.toThrow();
    }
    for (const app of APPS) {
      // Each app ran its own shutdown (closed its server, queues and connections) before it exited.
      expect(started.lines.some((line) => new RegExp(`^${app} +\\{.*"msg":"stopped"`).test(line))).toBe(true);
      expect(started.lines.some((line) => new RegExp(`^${app} +node .* exited with code`).test(line))).toBe(true);
    }
  });
});
