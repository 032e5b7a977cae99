// The last mile, with built processes: heroku-sim with real databases, ingress, worker, admin, and the example
// consumer (examples/consumer) holding a postgres.js pool on the app's database. The consumer queries 50 times a
// second through 10 real rotations (new password, open sessions terminated); it must fail no query (a query cut
// by the reset runs again on the new pool), and each rotation's first successful query on the new password
// is timed from the rotation's request.
import { writeFileSync } from 'node:fs';
import { freePort, startProcess, type RunningProcess } from '@hds/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { appName, eventually, useStack } from './support/use-stack.js';

const allowPrivate = { DESTINATIONS_ALLOW_PRIVATE: 'true' };
const stack = useStack({
  realDatabases: true,
  workerEnv: { RECONCILE_TICK_MS: '3600000', DELIVERY_RETRY_SCHEDULE: '0,0.2,0.5,1,2,5', ...allowPrivate },
  env: { admin: allowPrivate },
});

interface ConsumerStats {
  queries: number;
  ok: number;
  failed: number;
  retriedOk: number;
  errors: string[];
  pools: Array<{ generation: number; swappedAt: number; firstSuccessAt: number | null }>;
}

let consumer: RunningProcess | undefined;
afterAll(async () => {
  await consumer?.stop('SIGTERM');
});

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

describe('a consumer that never stays on a dead URL', () => {
  it('queries 50/s through 10 rotations without a failed query', async () => {
    const s = stack();
    const simAccount = await s.sim.createAccount({ email: 'consumer@example.com' });
    const app = await s.sim.createApp({ name: appName('consumer'), accountId: simAccount.id });
    const account = await s.admin.addAccount(simAccount.apiKey);
    const project = await s.admin.createProject({ name: 'consumer', heroku: { accountId: account.id, app: app.name } });
    const { token } = await s.admin.http.expect<{ token: string }>('POST', `/api/projects/${project.id}/tokens`, {
      status: 201,
      body: { name: 'consumer' },
    });
    const port = await freePort();
    const destination = await s.admin.http.expect<{ id: string; secret: string }>(
      'POST',
      `/api/projects/${project.id}/destinations`,
      { status: 201, body: { kind: 'webhook', url: `http://127.0.0.1:${port}/webhook` } },
    );

    consumer = startProcess({
      name: 'consumer',
      args: ['--import', 'tsx', 'examples/consumer/src/main.ts'],
      env: {
        CONSUMER_PORT: String(port),
        WEBHOOK_SECRET: destination.secret,
        HDS_API_URL: s.adminUrl,
        HDS_PROJECT_ID: project.id,
        HDS_READ_TOKEN: token,
        QUERY_RATE: '50',
      },
    });
    await consumer.waitForLine((line) => line.includes('"consumer listening"'), { timeoutMs: 20_000 });
    const stats = async () => (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as ConsumerStats;
    await eventually('the consumer to query', async () => (await stats()).ok > 20);

    const rotations: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      rotations.push(Date.now());
      const rotation = await s.sim.rotateCredentials(app.name);
      await eventually(`the consumer on rotation ${i + 1}`, async () => {
        const pools = (await stats()).pools;
        return pools.length === i + 1 && pools[i]!.firstSuccessAt !== null;
      });
      expect(rotation.version).toBe(2 + i);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const final = await stats();
    const freshness = final.pools.map((p, i) => p.firstSuccessAt! - rotations[i]!);
    const report = {
      queries: final.queries,
      ok: final.ok,
      failed: final.failed,
      retriedAfterReset: final.retriedOk,
      rotationToFirstSuccessMs: freshness,
      p50Ms: percentile(freshness, 50),
      maxMs: Math.max(...freshness),
      errors: final.errors,
    };
    writeFileSync(`${s.logDir}/consumer-report.json`, JSON.stringify(report, null, 2));
    process.stdout.write(`consumer through 10 rotations: ${JSON.stringify(report)}\n`);

    expect(final.failed, final.errors.join('\n')).toBe(0);
    expect(final.pools).toHaveLength(10);
    expect(final.ok).toBeGreaterThan(400);
    const log = await s.admin.http.expect<{ deliveries: Array<{ status: string }> }>(
      'GET',
      `/api/projects/${project.id}/destinations/${destination.id}/deliveries?limit=50`,
      { status: 200 },
    );
    expect(log.deliveries.filter((d) => d.status === 'delivered').length).toBeGreaterThanOrEqual(10);
    // Ten rotations one after another, each waited for: about 20 s on a loaded machine, past the default 30 s with
    // the stack's start. What is timed here is each rotation's freshness, not the test's length.
  }, 90_000);
});
