// Redis dies (SIGKILL) and restarts while heroku-sim delivers a stream of rotations: the ingress answers 503 with
// Retry-After while Redis is down, accepts again once it is back, and nothing it acknowledged (202) is lost: every
// acknowledged release is a job after the restart and the worker settles it; Heroku's retries of the refused
// deliveries bring every link to its app's newest release.
//
// Redis runs as production's docker-compose runs it, with the append-only file, but `appendfsync always`: Redis
// write(2)s the AOF before it answers, so a killed process loses nothing it acknowledged even with production's
// `everysec`, except when a slow fsync makes `everysec` postpone the write (up to 2 s), and a machine crash can
// lose the last second. `always` makes the acknowledgement durable in every case, so this test may demand it.
import { queueNames, releaseEventJobId } from '@hds/queue';
import { startRedisServer, startStack, type RedisServer, type SimApp, type Stack } from '@hds/testkit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appName, eventually } from '../support/use-stack.js';
import { probeIngress } from './support/signed-delivery.js';

const APPS = 4;
/** Between two rotations of one app: a steady stream of deliveries, not a flood the loaded worker lags behind. */
const ROTATION_PACE_MS = 40;

let redis: RedisServer | undefined;
let stack: Stack | undefined;

beforeAll(async () => {
  redis = await startRedisServer({
    args: ['--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'],
  });
  // No scheduled reconcile: only webhooks (first deliveries and Heroku's retries) may apply releases. A job the
  // worker held when Redis died stays active in the restarted Redis until its lock expires and the stalled-job
  // check hands it out again (30 s + 30 s by default): short ones keep that within the test's waits.
  stack = await startStack({
    namePrefix: 'hds_redisfault',
    redisUrl: redis.url,
    workerEnv: { RECONCILE_TICK_MS: '3600000', WORKER_LOCK_DURATION_MS: '5000', WORKER_STALLED_INTERVAL_MS: '2000' },
  });
});
afterAll(async () => {
  if (redis && !redis.running) await redis.start();
  await stack?.close();
  await redis?.close();
});
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    if (stack) console.log(`logs of the stack's processes:\n${stack.logs({ tail: 60 })}`);
  });
});

interface Linked {
  app: SimApp;
  projectId: string;
  linkId: string;
}

async function linkApps(s: Stack): Promise<Linked[]> {
  const simAccount = await s.sim.createAccount({ email: 'redis-restart@example.com' });
  const account = await s.admin.addAccount(simAccount.apiKey);
  const linked: Linked[] = [];
  for (let i = 0; i < APPS; i += 1) {
    const app = await s.sim.createApp({ name: appName('redisrestart'), accountId: simAccount.id });
    const project = await s.admin.createProject({ name: app.name, heroku: { accountId: account.id, app: app.name } });
    linked.push({ app, projectId: project.id, linkId: project.sync.linkId! });
  }
  return linked;
}

/** Rotates every app's credentials over and over until stopped; resolves with each app's last rotation. */
function rotateContinuously(s: Stack, linked: Linked[]) {
  let running = true;
  const last = new Map<string, { version: number; databaseUrl: string }>();
  const loops = linked.map(async (l) => {
    while (running) {
      last.set(l.app.name, await s.sim.rotateCredentials(l.app.name));
      // Pacing the load, not waiting for an event.
      await new Promise((resolve) => setTimeout(resolve, ROTATION_PACE_MS));
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return last;
    },
  };
}

/** Every delivery attempt of the apps so far, with when the ingress answered it (`status` null: no answer). */
async function attempts(s: Stack, linked: Linked[]) {
  const deliveries = (await Promise.all(linked.map((l) => s.sim.deliveries({ app: l.app.name })))).flat();
  return deliveries.flatMap((d) => d.attempts.map((a) => ({ app: d.app.name, version: d.releaseVersion, ...a })));
}

describe('Redis restarted under load', () => {
  it('answers 503 while Redis is down and loses nothing it acknowledged', async () => {
    const s = stack!;
    const server = redis!;
    const linked = await linkApps(s);
    const load = rotateContinuously(s, linked);
    let newest: Map<string, { version: number; databaseUrl: string }>;
    try {
      await eventually('deliveries acknowledged before the crash', async () => {
        const answered = await attempts(s, linked);
        return answered.filter((a) => a.status === 202).length >= 4 * APPS;
      });
      await server.stop({ signal: 'SIGKILL' });

      // Down: refused at once with Retry-After, Heroku's deliveries too, and /readyz says so.
      const refused = await probeIngress(s.ingressUrl);
      expect(refused).toMatchObject({
        status: 503,
        code: 'queue_unavailable',
        retryAfter: expect.stringMatching(/^[1-9]\d*$/),
      });
      expect(refused.ms).toBeLessThan(2000);
      expect((await fetch(`${s.ingressUrl}/readyz`)).status).toBe(503);
      await eventually('Heroku’s deliveries to be refused', async () =>
        (await attempts(s, linked)).some((a) => a.status === 503),
      );

      await server.start();
      await eventually('the ingress to be ready again', async () => (await fetch(`${s.ingressUrl}/readyz`)).ok);
      expect((await probeIngress(s.ingressUrl)).status).toBe(202);
      const acceptedAgainAfter = (await attempts(s, linked)).filter((a) => a.status === 202).length;
      await eventually('deliveries acknowledged after the restart', async () => {
        const answered = await attempts(s, linked);
        return answered.filter((a) => a.status === 202).length >= acceptedAgainAfter + APPS;
      });
    } finally {
      newest = await load.stop();
    }

    // Heroku retries what was refused (1 s, 5 s, ...) until it is acknowledged.
    expect(await s.sim.settled(30_000)).toBe(true);
    const all = await attempts(s, linked);
    const acknowledged = new Map<string, Set<number>>();
    for (const a of all) {
      if (a.status !== 202 || a.version === null) continue;
      acknowledged.set(a.app, (acknowledged.get(a.app) ?? new Set()).add(a.version));
    }
    expect(all.filter((a) => a.status === 503).length).toBeGreaterThan(0);

    // Every acknowledged release of every app is a job in the restarted Redis...
    const connection = new Redis(server.url, { maxRetriesPerRequest: null });
    const events = new Queue(queueNames.events, { connection, prefix: s.redisPrefix });
    try {
      for (const l of linked) {
        const versions = [...(acknowledged.get(l.app.name) ?? [])];
        expect(versions.length).toBeGreaterThan(0);
        const jobs = await Promise.all(
          versions.map((version) =>
            events.getJob(releaseEventJobId({ linkId: l.linkId, appId: l.app.id, version, status: 'succeeded' })),
          ),
        );
        const missing = versions.filter((_, i) => jobs[i] === undefined);
        expect(missing, `acknowledged releases of ${l.app.name} without a job`).toEqual([]);
      }
    } finally {
      await events.close();
      connection.disconnect();
    }

    // ...the worker settled each of them, and every link ends on its app's newest release.
    await eventually(
      'every app’s newest rotation to be applied',
      async () => {
        const values = await Promise.all(linked.map((l) => s.admin.envValue(l.projectId)));
        return values.every((value, i) => value === newest.get(linked[i]!.app.name)?.databaseUrl);
      },
      30_000,
    );
    const sql = postgres(s.database.url, { max: 1, onnotice: () => {} });
    try {
      const unsettled = async () => {
        const left: string[] = [];
        for (const l of linked) {
          const versions = [...(acknowledged.get(l.app.name) ?? [])];
          const rows = await sql<{ release_version: number }[]>`
            select release_version from webhook_events
            where link_id = ${l.linkId} and release_version in ${sql(versions)} and outcome is not null`;
          const settled = new Set(rows.map((r) => r.release_version));
          left.push(...versions.filter((v) => !settled.has(v)).map((v) => `${l.app.name} v${v}`));
        }
        return left;
      };
      await eventually(
        'the worker to settle every acknowledged release',
        async () => {
          const left = await unsettled();
          if (left.length > 0) throw new Error(`not settled: ${left.join(', ')}`);
          return true;
        },
        30_000,
      );
      for (const l of linked) {
        expect(await s.admin.syncStatus(l.projectId)).toMatchObject({
          state: 'active',
          lastReleaseVersion: newest.get(l.app.name)!.version,
        });
      }
    } finally {
      await sql.end();
    }
    console.log(
      `${all.filter((a) => a.status === 202).length} deliveries acknowledged, ${all.filter((a) => a.status === 503).length} refused while Redis was down`,
    );
  });
});
