/**
 * `npm run bench:e2e`: heroku-sim rotations through the built ingress and worker(s) into Postgres, every
 * component its own process. For 0 ms and 50 ms of simulated Heroku API latency, with 1 and 3 workers, it prints:
 * - rotations per second applied (as many rotations as the system takes, spread over many apps),
 * - webhook-to-commit p50/p99 at saturation and at a steady 100 rotations/s,
 * - Heroku API calls per applied release.
 * Not part of `npm test`. Environment (optional): BENCH_DURATION_S (10), BENCH_APPS (200), BENCH_ACCOUNTS (20),
 * BENCH_RATE (100), BENCH_IN_FLIGHT (4 requests) × BENCH_BATCH (10 apps rotated per request) when saturating,
 * BENCH_SCENARIOS (e.g. "0:1,50:3"), BENCH_NODE_ARGS (node flags for the servers, e.g. --cpu-prof).
 */
import { cpus, totalmem } from 'node:os';
import { Keyring, createLogger } from '@hds/core';
import { SyncService } from '@hds/sync';
import {
  createTestDatabase,
  createTestRedis,
  testEncryptionKeys,
  testSecret,
  testServices,
  uniqueName,
} from '@hds/testkit';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { cpuSeconds } from '../support/proc-stats.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../support/server-process.js';

const settings = {
  durationS: Number(process.env.BENCH_DURATION_S ?? 10),
  apps: Number(process.env.BENCH_APPS ?? 200),
  accounts: Number(process.env.BENCH_ACCOUNTS ?? 20),
  rate: Number(process.env.BENCH_RATE ?? 100),
  inFlight: Number(process.env.BENCH_IN_FLIGHT ?? 4),
  batch: Number(process.env.BENCH_BATCH ?? 10),
  scenarios: (process.env.BENCH_SCENARIOS ?? '0:1,0:3,50:1,50:3').split(',').map((s) => {
    const [latency, workers] = s.split(':').map(Number);
    return { latencyMs: latency ?? 0, workers: workers ?? 1 };
  }),
};
const SIGNING_KEYS = [testSecret('bench e2e signing key')];
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const TARGETS = { rotationsPerS: 500, p99Ms: 250, callsPerRelease: 1.0 };

const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
async function simCall(
  simUrl: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const res = await request(`${simUrl}${path}`, {
    method,
    dispatcher: agent,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 400) throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`);
  return text === '' ? undefined : JSON.parse(text);
}

interface PhaseResult {
  cpuMsPerRotation: Record<string, number>;
  rotations: number;
  seconds: number;
  appliedReleases: number;
  p50Ms: number;
  p99Ms: number;
  herokuCalls: number;
}

interface Stack {
  sim: ServerProcess;
  ingress: ServerProcess;
  workers: ServerProcess[];
  sync: SyncService;
  database: Awaited<ReturnType<typeof createTestDatabase>>;
  cleanup: () => Promise<void>;
  apps: { name: string; linkId: string }[];
}

async function startStack(scenario: { latencyMs: number; workers: number }): Promise<Stack> {
  const database = await createTestDatabase({ poolSize: 10 });
  const redis = await createTestRedis();
  const sim = await startServerProcess('heroku-sim', [...nodeArgs, 'apps/heroku-sim/dist/main.js'], {
    LOG_LEVEL: 'warn',
  });
  const ingress = await startServerProcess('ingress', [...nodeArgs, 'apps/ingress/dist/main.js'], {
    REDIS_URL: testServices.redisUrl,
    QUEUE_PREFIX: redis.prefix,
    WEBHOOK_SIGNING_KEYS: SIGNING_KEYS.join(','),
    LOG_LEVEL: 'warn',
  });
  const workerEnv = {
    DATABASE_URL: database.url,
    REDIS_URL: testServices.redisUrl,
    QUEUE_PREFIX: redis.prefix,
    HEROKU_API_URL: sim.url,
    PUBLIC_WEBHOOK_BASE_URL: ingress.url,
    WEBHOOK_SIGNING_KEYS: SIGNING_KEYS.join(','),
    ENCRYPTION_KEYS: testEncryptionKeys.join(','),
    LOG_LEVEL: 'warn',
    RECONCILE_TICK_MS: '3600000',
  };
  const workers: ServerProcess[] = [];
  for (let i = 0; i < scenario.workers; i += 1) {
    // e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the servers
    workers.push(await startServerProcess(`worker-${i + 1}`, [...nodeArgs, 'apps/worker/dist/main.js'], workerEnv));
  }
  const sync = new SyncService({
    db: database.client.db,
    keyring: Keyring.fromSpecs(testEncryptionKeys),
    logger: createLogger({ app: 'bench', level: 'warn' }),
    heroku: { apiUrl: sim.url },
    webhooks: { publicBaseUrl: ingress.url, signingKeys: SIGNING_KEYS },
  });
  // Accounts and apps on the sim, each app synced to a project (webhook created, current URL applied).
  const apps: { name: string; linkId: string }[] = [];
  const perAccount = Math.ceil(settings.apps / settings.accounts);
  for (let a = 0; a < settings.accounts; a += 1) {
    const account = (await simCall(sim.url, 'POST', '/_sim/accounts', { email: `bench-${a}@example.com` })) as {
      id: string;
      apiKey: string;
    };
    const { account: stored } = await sync.addAccount({ apiKey: account.apiKey });
    const created = await Promise.all(
      Array.from({ length: perAccount }, async (_, i) => {
        const name = `bench-${a}-${i}-${uniqueName('a').slice(-6)}`;
        await simCall(sim.url, 'POST', '/_sim/apps', { name, accountId: account.id });
        const project = await sync.createProject({ name, heroku: { accountId: stored.id, app: name } });
        return { name, linkId: project.sync.linkId! };
      }),
    );
    apps.push(...created);
  }
  if (scenario.latencyMs > 0)
    await simCall(sim.url, 'POST', '/_sim/faults', { api: { latencyMs: scenario.latencyMs } });
  return {
    sim,
    ingress,
    workers,
    sync,
    database,
    apps,
    cleanup: async () => {
      await Promise.all([...workers, ingress, sim].map((p) => stopServerProcess(p)));
      await redis.cleanup();
      await database.drop();
    },
  };
}

/** Fires rotations round-robin over the apps: open loop at `rate`/s, or closed loop with `inFlight` at once. */
async function drive(stack: Stack, redis: Redis, mode: { rate: number } | { inFlight: number }): Promise<PhaseResult> {
  await simCall(stack.sim.url, 'DELETE', '/_sim/requests');
  const cpuBefore = await cpuSnapshot(stack, redis);
  const sql = stack.database.client.sql;
  const [{ mark }] = (await sql`select coalesce(max(id), 0)::bigint::text as mark from audit_log`) as unknown as [
    { mark: string },
  ];
  const last = new Map<string, number>();
  let next = 0;
  let rotations = 0;
  const byName = new Map(stack.apps.map((a) => [a.name, a.linkId]));
  /** Rotates the next `count` apps in one request to the sim. */
  const rotate = async (count: number) => {
    const apps = Array.from({ length: count }, () => stack.apps[next++ % stack.apps.length]!.name);
    const done = (await simCall(stack.sim.url, 'POST', '/_sim/rotate-credentials', { apps })) as {
      app: string;
      version: number;
    }[];
    rotations += done.length;
    for (const { app, version } of done) {
      const linkId = byName.get(app)!;
      if (version > (last.get(linkId) ?? 0)) last.set(linkId, version);
    }
  };
  const started = performance.now();
  const until = started + settings.durationS * 1000;
  if ('rate' in mode) {
    const pending: Promise<void>[] = [];
    for (let i = 0; ; i += 1) {
      const due = started + (i * 1000) / mode.rate;
      if (due >= until) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      pending.push(rotate(1));
    }
    await Promise.all(pending);
  } else {
    await Promise.all(
      Array.from({ length: mode.inFlight }, async () => {
        while (performance.now() < until) await rotate(settings.batch);
      }),
    );
  }
  // Drained: every app's last rotation applied.
  const linkIds = [...last.keys()];
  for (;;) {
    const rows = await sql<{ id: string; applied_version: number }[]>`
      select id, applied_version from heroku_links where id::text = any(string_to_array(${linkIds.join(',')}, ','))`;
    if (rows.every((r) => r.applied_version >= (last.get(r.id) ?? 0))) break;
    if (performance.now() - until > 120_000) throw new Error('not drained within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = await cpuSnapshot(stack, redis);
  const cpuMsPerRotation = Object.fromEntries(
    Object.keys(cpuAfter).map((k) => [k, ((cpuAfter[k]! - cpuBefore[k]!) * 1000) / Math.max(1, rotations)]),
  );
  // Webhook-to-commit: from the ingress accepting the delivery that led to the commit to the commit's transaction.
  const [latency] = await sql<{ n: number; p50: number; p99: number }[]>`
    select count(*)::int as n,
      coalesce(percentile_cont(0.5) within group (order by extract(epoch from a.at - e.received_at) * 1000), 0) as p50,
      coalesce(percentile_cont(0.99) within group (order by extract(epoch from a.at - e.received_at) * 1000), 0) as p99
    from audit_log a join webhook_events e on e.event_id = a.event_id and e.link_id = a.link_id
    where a.id > ${mark} and a.action = 'env_synced'`;
  const [applied] = await sql<{ n: number }[]>`
    select count(distinct (link_id, release_version))::int as n from audit_log where id > ${mark} and action = 'env_synced'`;
  const requests = (await simCall(stack.sim.url, 'GET', '/_sim/requests')) as { path: string }[];
  return {
    cpuMsPerRotation,
    rotations,
    seconds,
    appliedReleases: applied?.n ?? 0,
    p50Ms: Number(latency?.p50 ?? 0),
    p99Ms: Number(latency?.p99 ?? 0),
    herokuCalls: requests.length,
  };
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);

/** CPU seconds of every component, to report the CPU cost of a rotation (robust to a busy machine). */
async function cpuSnapshot(stack: Stack, redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('cpu');
  const redisCpu = ['used_cpu_sys', 'used_cpu_user'].reduce(
    (sum, key) => sum + Number(new RegExp(`${key}:([0-9.]+)`).exec(info)?.[1] ?? 0),
    0,
  );
  return {
    sim: cpuSeconds(stack.sim.child.pid),
    ingress: cpuSeconds(stack.ingress.child.pid),
    workers: stack.workers.reduce((sum, w) => sum + cpuSeconds(w.child.pid), 0),
    redis: redisCpu,
    postgres: await postgresCpu(stack),
    driver: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  };
}

/** CPU of the Postgres backends serving this benchmark's database. */
async function postgresCpu(stack: Stack): Promise<number> {
  const rows = await stack.database.client.sql<{ pid: number }[]>`
    select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
  return rows.reduce((sum, r) => sum + cpuSeconds(r.pid), 0);
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(
    `End-to-end benchmark: heroku-sim → ingress → BullMQ → worker(s) → Postgres, each its own process; ` +
      `${settings.apps} apps over ${settings.accounts} accounts; ${settings.durationS} s per phase`,
  );
  console.log(
    `machine: ${cpu[0]?.model.trim() ?? '?'} (${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB), Node ${process.version}\n`,
  );
  console.log(
    [
      'latency'.padEnd(8),
      'workers'.padEnd(8),
      'phase'.padEnd(22),
      'rotations'.padStart(9),
      'applied/s'.padStart(10),
      'p50 ms'.padStart(8),
      'p99 ms'.padStart(8),
      'calls/release'.padStart(14),
    ].join(' '),
  );
  const verdicts: string[] = [];
  const cpuLines: string[] = [];
  const redis = new Redis(testServices.redisUrl);
  for (const scenario of settings.scenarios) {
    const stack = await startStack(scenario);
    try {
      for (const phase of [
        { label: `saturated`, mode: { inFlight: settings.inFlight } },
        { label: `steady ${settings.rate}/s`, mode: { rate: settings.rate } },
      ] as const) {
        const result = await drive(stack, redis, phase.mode);
        const cpu = result.cpuMsPerRotation;
        const total = Object.values(cpu).reduce((a, b) => a + b, 0);
        cpuLines.push(
          `${scenario.latencyMs} ms, ${scenario.workers} worker(s), ${phase.label}: ${fmt(total, 2)} ms CPU per rotation = ` +
            Object.entries(cpu)
              .map(([k, v]) => `${k} ${fmt(v, 2)}`)
              .join(', '),
        );
        const perS = result.rotations / result.seconds;
        const calls = result.herokuCalls / Math.max(1, result.appliedReleases);
        console.log(
          [
            `${scenario.latencyMs} ms`.padEnd(8),
            String(scenario.workers).padEnd(8),
            phase.label.padEnd(22),
            String(result.rotations).padStart(9),
            fmt(perS).padStart(10),
            fmt(result.p50Ms, 1).padStart(8),
            fmt(result.p99Ms, 1).padStart(8),
            fmt(calls, 2).padStart(14),
          ].join(' '),
        );
        if (scenario.latencyMs === 0 && scenario.workers === 1 && 'inFlight' in phase.mode) {
          verdicts.push(`rotations/s at 0 ms, 1 worker: ${fmt(perS)} (target ≥ ${TARGETS.rotationsPerS})`);
        }
        if (scenario.latencyMs === 50 && 'rate' in phase.mode) {
          verdicts.push(
            `p99 at ${settings.rate}/s, 50 ms, ${scenario.workers} worker(s): ${fmt(result.p99Ms)} ms (target ≤ ${TARGETS.p99Ms})`,
          );
        }
        verdicts.push(
          `calls per applied release, ${scenario.latencyMs} ms/${scenario.workers}w/${phase.label}: ${fmt(calls, 2)} (target ≤ ${TARGETS.callsPerRelease})`,
        );
      }
    } finally {
      await stack.cleanup();
    }
  }
  console.log(`\nCPU per rotation (user + system, all components):\n${cpuLines.join('\n')}`);
  console.log(`\n${verdicts.join('\n')}`);
  redis.disconnect();
  await agent.close();
}

await main();
