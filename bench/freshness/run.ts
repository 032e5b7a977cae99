/**
 * `npm run bench:freshness`: how soon a consumer uses a rotated password, and how many deliveries a second the
 * delivery side sustains. Built processes (heroku-sim with real databases, ingress, worker, admin); the consumers
 * are in this process: per app, a webhook endpoint (verified with standardwebhooks) and the example consumer's
 * SwappablePool (examples/consumer/src/pool.ts), whose swap runs the first query on the new password.
 *
 * 1. Freshness: BENCH_APPS (100) apps, each synced to a project with a webhook destination (value included);
 *    BENCH_ROTATION_RATE (10) rotations a second for BENCH_DURATION_S (20 s), round robin over the apps. For each
 *    rotation: from the rotation request to the consumer's first successful query on the new password, p50/p99.
 * 2. Throughput: BENCH_DELIVERIES (5000) deliveries to a local receiver answering 204 (the current values of
 *    projects with 200 vars each, queued at once when their destinations are added): deliveries per second.
 * Targets: p99 ≤ 1 s; ≥ 500 deliveries/s. Not part of `npm test`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { startPostgresServer, startStack } from '@hds/testkit';
import { Webhook } from 'standardwebhooks';
import { ignoreDestroyedOldConnections, SwappablePool } from '../../examples/consumer/src/pool.js';

const settings = {
  apps: Number(process.env.BENCH_APPS ?? 100),
  rotationRate: Number(process.env.BENCH_ROTATION_RATE ?? 10),
  durationS: Number(process.env.BENCH_DURATION_S ?? 20),
  deliveries: Number(process.env.BENCH_DELIVERIES ?? 5000),
};
const out = (line: string) => process.stdout.write(`${line}\n`);
let destroyedOld = 0;
ignoreDestroyedOldConnections(() => (destroyedOld += 1));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};
const allowPrivate = { DESTINATIONS_ALLOW_PRIVATE: 'true' };

const server = await startPostgresServer({
  auth: 'scram-sha-256',
  settings: { fsync: 'off', max_connections: String(settings.apps * 3 + 50) },
});
const stack = await startStack({
  namePrefix: 'hds_bench_fresh',
  realDatabases: { server },
  workerEnv: { RECONCILE_TICK_MS: '3600000', DELIVERY_RETRY_SCHEDULE: '0,0.2,0.5,1,2,5', ...allowPrivate },
  env: { admin: allowPrivate },
});

interface Consumer {
  projectId: string;
  pool: SwappablePool | null;
  webhook: Webhook | null;
  version: number;
  /** Rotation version → when it was requested. */
  pending: Map<number, number>;
  /** Release version → when the pool's first query on it succeeded (a delivery may beat the rotation's answer). */
  swapped: Map<number, number>;
}
const consumers = new Map<string, Consumer>();
const freshness: number[] = [];
let throughputReceived = 0;
let throughputDone: (() => void) | null = null;

const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const path = req.url ?? '';
    if (path === '/sink') {
      throughputReceived += 1;
      if (throughputReceived >= settings.deliveries) throughputDone?.();
      res.writeHead(204).end();
      return;
    }
    const consumer = consumers.get(path.slice('/consumer/'.length));
    if (!consumer?.webhook) {
      res.writeHead(503).end();
      return;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    let event: { data: { value?: string; releaseVersion: number | null } };
    try {
      event = consumer.webhook.verify(body, req.headers as Record<string, string>) as typeof event;
    } catch {
      res.writeHead(400).end();
      return;
    }
    void (async () => {
      const { value, releaseVersion } = event.data;
      // The first delivery (the current value, no release) opens the pool; later ones move it forward only.
      if (value && !consumer.pool) {
        consumer.pool = new SwappablePool(value, { max: 1 });
        consumer.version = Math.max(consumer.version, releaseVersion ?? 0);
      } else if (value && consumer.pool && (releaseVersion ?? 0) > consumer.version) {
        consumer.version = releaseVersion ?? 0;
        await consumer.pool.swap(value);
        consumer.swapped.set(consumer.version, Date.now());
        const requested = consumer.pending.get(consumer.version);
        if (requested !== undefined) {
          freshness.push(Date.now() - requested);
          consumer.pending.delete(consumer.version);
        }
      }
      res.writeHead(204).end();
    })().catch(() => res.writeHead(503).end());
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

try {
  out(
    `machine: ${cpus().length} cores (nproc), ${Math.round(totalmem() / 2 ** 30)} GiB, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const simAccount = await stack.sim.createAccount({ email: 'bench-freshness@example.com' });
  const account = await stack.admin.addAccount(simAccount.apiKey);
  const apps: Array<{ name: string; projectId: string }> = [];
  for (let i = 0; i < settings.apps; i += 1) {
    const app = await stack.sim.createApp({ name: `fresh-${i}-${Date.now().toString(36)}`, accountId: simAccount.id });
    const project = await stack.admin.createProject({
      name: app.name,
      heroku: { accountId: account.id, app: app.name },
    });
    const consumer: Consumer = {
      projectId: project.id,
      pool: null,
      webhook: null,
      version: 0,
      pending: new Map(),
      swapped: new Map(),
    };
    consumers.set(project.id, consumer);
    const destination = await stack.admin.http.expect<{ secret: string }>(
      'POST',
      `/api/projects/${project.id}/destinations`,
      {
        status: 201,
        body: { kind: 'webhook', url: `${receiverUrl}/consumer/${project.id}`, includeValue: true },
      },
    );
    consumer.webhook = new Webhook(destination.secret);
    apps.push({ name: app.name, projectId: project.id });
  }
  // Every consumer holds its first pool (the destination's first delivery).
  for (let waited = 0; [...consumers.values()].some((c) => !c.pool); waited += 100) {
    if (waited > 60_000) throw new Error('consumers did not get their first URL');
    await new Promise((r) => setTimeout(r, 100));
  }
  out(`freshness: ${settings.apps} apps ready; ${settings.rotationRate} rotations/s for ${settings.durationS} s`);

  const total = settings.rotationRate * settings.durationS;
  const started = Date.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = started + (i * 1000) / settings.rotationRate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const app = apps[i % apps.length]!;
    const consumer = consumers.get(app.projectId)!;
    const requestedAt = Date.now();
    inFlight.push(
      stack.sim.rotateCredentials(app.name).then((rotation) => {
        const swappedAt = consumer.swapped.get(rotation.version);
        if (swappedAt === undefined) consumer.pending.set(rotation.version, requestedAt);
        else freshness.push(swappedAt - requestedAt);
      }),
    );
  }
  await Promise.all(inFlight);
  for (let waited = 0; freshness.length < total && waited < 30_000; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const missed = total - freshness.length;
  out(
    `freshness: ${freshness.length}/${total} rotations reached their consumer; rotation → first query on the new ` +
      `password p50 ${percentile(freshness, 50)} ms, p99 ${percentile(freshness, 99)} ms, max ${Math.max(...freshness)} ms` +
      `${missed > 0 ? ` (${missed} superseded by the app's next rotation before delivery, or late)` : ''} (target p99 ≤ 1000 ms)`,
  );
  for (const c of consumers.values()) await c.pool?.close();

  // Throughput.
  const perProject = 200;
  const projects = Math.ceil(settings.deliveries / perProject);
  const ids: string[] = [];
  for (let p = 0; p < projects; p += 1) {
    const env = Object.fromEntries(Array.from({ length: perProject }, (_, i) => [`VAR_${i}`, `value-${p}-${i}`]));
    ids.push((await stack.admin.createProject({ name: `sink-${p}`, env })).id);
  }
  const done = new Promise<void>((resolve) => (throughputDone = resolve));
  const t0 = Date.now();
  await Promise.all(
    ids.map((id) =>
      stack.admin.http.expect('POST', `/api/projects/${id}/destinations`, {
        status: 201,
        body: { kind: 'webhook', url: `${receiverUrl}/sink` },
      }),
    ),
  );
  await Promise.race([done, new Promise((r) => setTimeout(r, 120_000))]);
  const seconds = (Date.now() - t0) / 1000;
  out(
    `throughput: ${throughputReceived} deliveries in ${seconds.toFixed(2)} s = ${Math.round(throughputReceived / seconds)}/s ` +
      `(1 worker, DELIVERY_CONCURRENCY 64; target ≥ 500/s)`,
  );
  out(`old-pool connections destroyed on their way out (postgres.js end timeout): ${destroyedOld}`);
  out(
    `load after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  receiver.closeAllConnections();
  receiver.close();
  await stack.close();
  await server.close();
}
