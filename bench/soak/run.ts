/**
 * `npm run bench:soak`: a long run at a steady rate of credential rotations across many links, every component its
 * own built process (heroku-sim, ingress, worker(s), admin) on the local Redis and Postgres. It reports the memory of
 * each process from the start of the load to its end, webhook-to-commit latency minute by minute, Heroku calls per
 * applied release, and checks at the end that nothing was lost or applied twice:
 * - every project's env var equals its app's current `DATABASE_URL` on the sim, and every link is at its app's
 *   newest release (lost = 0),
 * - no release was applied (audited) twice for a link (doubled = 0), and each link's audit rows are in release
 *   order (no older value over a newer one),
 * - no delivery failed and no job failed.
 * It exits 1 when one of these checks fails. Not part of `npm test`.
 *
 * Environment (optional): SOAK_DURATION_S (600), SOAK_RATE (rotations/s, 50), SOAK_LINKS (1000), SOAK_ACCOUNTS (20),
 * SOAK_WORKERS (1), SOAK_DUPLICATE_RATE (share of deliveries Heroku sends twice, 0.02), SOAK_SAMPLE_S (60), SOAK_SEED.
 */
import { cpus, totalmem } from 'node:os';
import { createRandom } from '@hds/heroku-sim';
import { queueNames } from '@hds/queue';
import {
  AdminClient,
  SimClient,
  createTestDatabase,
  createTestRedis,
  testEncryptionKeys,
  testSecret,
  testServices,
  uniqueName,
} from '@hds/testkit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { cpuSeconds, rssBytes } from '../support/proc-stats.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../support/server-process.js';

const settings = {
  durationS: Number(process.env.SOAK_DURATION_S ?? 600),
  rate: Number(process.env.SOAK_RATE ?? 50),
  links: Number(process.env.SOAK_LINKS ?? 1000),
  accounts: Number(process.env.SOAK_ACCOUNTS ?? 20),
  workers: Number(process.env.SOAK_WORKERS ?? 1),
  duplicateRate: Number(process.env.SOAK_DUPLICATE_RATE ?? 0.02),
  sampleS: Number(process.env.SOAK_SAMPLE_S ?? 60),
  seed: Number(process.env.SOAK_SEED ?? 7),
};
const SIGNING_KEYS = [testSecret('soak signing key')];
const ADMIN_TOKEN = testSecret('soak admin token');
const MIB = 2 ** 20;

interface Link {
  projectId: string;
  linkId: string;
  app: string;
}

async function pool<T>(items: T[], concurrency: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await each(items[next++]!);
    }),
  );
}

/** `nodejs_heap_size_used_bytes` from an app's `/metrics`, or undefined. */
async function heapUsed(server: ServerProcess): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const match = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([0-9.e+]+)$/m.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface Sample {
  atS: number;
  rotations: number;
  memory: Record<string, { rssMiB: number; heapMiB?: number }>;
}

async function sample(servers: ServerProcess[], redis: Redis, atS: number, rotations: number): Promise<Sample> {
  const memory: Sample['memory'] = {};
  for (const server of servers) {
    const heap = await heapUsed(server);
    memory[server.name] = {
      rssMiB: rssBytes(server.child.pid) / MIB,
      ...(heap === undefined ? {} : { heapMiB: heap / MIB }),
    };
  }
  const info = await redis.info('memory');
  memory.redis = { rssMiB: Number(/used_memory_rss:(\d+)/.exec(info)?.[1] ?? 0) / MIB };
  return { atS, rotations, memory };
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(
    `Soak: ${settings.rate} rotations/s for ${settings.durationS} s across ${settings.links} links ` +
      `(${settings.accounts} accounts), ${settings.workers} worker(s), ${settings.duplicateRate * 100}% of deliveries duplicated`,
  );
  console.log(
    `machine: ${cpu[0]?.model.trim() ?? '?'} (${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB), Node ${process.version}`,
  );
  const database = await createTestDatabase({ poolSize: 4 });
  const redisPrefix = await createTestRedis();
  const redis = new Redis(testServices.redisUrl);
  const servers: ServerProcess[] = [];
  const sim = await startServerProcess('heroku-sim', ['apps/heroku-sim/dist/main.js'], { LOG_LEVEL: 'warn' });
  servers.push(sim);
  const common = {
    DATABASE_URL: database.url,
    REDIS_URL: testServices.redisUrl,
    QUEUE_PREFIX: redisPrefix.prefix,
    HEROKU_API_URL: sim.url,
    HEROKU_OAUTH_URL: sim.url,
    WEBHOOK_SIGNING_KEYS: SIGNING_KEYS.join(','),
    ENCRYPTION_KEYS: testEncryptionKeys.join(','),
    LOG_LEVEL: 'info',
  };
  const ingress = await startServerProcess('ingress', ['apps/ingress/dist/main.js'], {
    REDIS_URL: testServices.redisUrl,
    QUEUE_PREFIX: redisPrefix.prefix,
    WEBHOOK_SIGNING_KEYS: SIGNING_KEYS.join(','),
    LOG_LEVEL: 'info',
  });
  servers.push(ingress);
  for (let i = 0; i < settings.workers; i += 1) {
    servers.push(
      await startServerProcess(`worker-${i + 1}`, ['apps/worker/dist/main.js'], {
        ...common,
        PUBLIC_WEBHOOK_BASE_URL: ingress.url,
      }),
    );
  }
  const admin = await startServerProcess('admin', ['apps/admin/dist/main.js'], {
    ...common,
    PUBLIC_WEBHOOK_BASE_URL: ingress.url,
    ADMIN_TOKEN,
  });
  servers.push(admin);
  const simClient = new SimClient({ url: sim.url });
  const adminClient = new AdminClient({ url: admin.url, token: ADMIN_TOKEN });
  let failed = false;
  try {
    // Set-up through the admin API, as a user would: accounts by API key, a project per app with the sync on.
    const setupStarted = performance.now();
    const links: Link[] = [];
    const perAccount = Math.ceil(settings.links / settings.accounts);
    for (let a = 0; a < settings.accounts && links.length < settings.links; a += 1) {
      const simAccount = await simClient.createAccount({ email: `soak-${a}@example.com` });
      const account = await adminClient.addAccount(simAccount.apiKey);
      const names = Array.from(
        { length: Math.min(perAccount, settings.links - links.length) },
        (_, i) => `soak-${a}-${i}-${uniqueName('a').slice(-6)}`,
      );
      await pool(names, 8, async (name) => {
        await simClient.createApp({ name, accountId: simAccount.id });
        const project = await adminClient.createProject({ name, heroku: { accountId: account.id, app: name } });
        links.push({ projectId: project.id, linkId: project.sync.linkId!, app: name });
      });
    }
    console.log(`set-up: ${links.length} links enabled in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`);
    if (settings.duplicateRate > 0) {
      await simClient.setFaults({ deliveries: { duplicate: { rate: settings.duplicateRate } } });
    }

    // The load: an open loop at `rate`/s, each rotation of an app picked at random (so some apps are rotated again
    // while their previous rotation is still in flight).
    const random = createRandom(settings.seed);
    const lastVersion = new Map<string, number>();
    let rotations = 0;
    let rotateErrors = 0;
    let herokuCalls = 0;
    const samples: Sample[] = [];
    const [{ mark }] = (await database.client.sql`
      select coalesce(max(id), 0)::bigint::text as mark from audit_log`) as unknown as [{ mark: string }];
    await simClient.http.request('DELETE', '/_sim/requests');
    const cpuStart = Object.fromEntries(servers.map((s) => [s.name, cpuSeconds(s.child.pid)]));
    const started = performance.now();
    const loadStartedAt = new Date();
    samples.push(await sample(servers, redis, 0, 0));
    const until = started + settings.durationS * 1000;
    let nextSample = started + settings.sampleS * 1000;
    const pending = new Set<Promise<void>>();
    for (let i = 0; ; i += 1) {
      const due = started + (i * 1000) / settings.rate;
      if (due >= until) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const app = links[Math.floor(random() * links.length)]!.app;
      const rotation = simClient
        .rotateCredentials(app)
        .then(({ version }) => {
          rotations += 1;
          if (version > (lastVersion.get(app) ?? 0)) lastVersion.set(app, version);
        })
        .catch(() => {
          rotateErrors += 1;
        });
      pending.add(rotation);
      void rotation.finally(() => pending.delete(rotation));
      if (performance.now() >= nextSample) {
        nextSample += settings.sampleS * 1000;
        // The sim keeps every request for tests; count and forget them so its own memory stays flat.
        herokuCalls += (await simClient.requests()).length;
        await simClient.http.request('DELETE', '/_sim/requests');
        samples.push(await sample(servers, redis, (performance.now() - started) / 1000, rotations));
        const last = samples.at(-1)!;
        console.log(
          `  ${last.atS.toFixed(0)} s: ${rotations} rotations; RSS MiB ` +
            Object.entries(last.memory)
              .map(([k, v]) => `${k} ${v.rssMiB.toFixed(0)}`)
              .join(', '),
        );
      }
    }
    await Promise.all(pending);
    const loadSeconds = (performance.now() - started) / 1000;

    // Drained: every link at its app's newest release (or a deadline).
    const sql = database.client.sql;
    const drainStarted = performance.now();
    let behind = links.length;
    while (performance.now() - drainStarted < 120_000) {
      const rows = await sql<{ id: string; applied_version: number }[]>`
        select id, applied_version from heroku_links where id::text = any(string_to_array(${links.map((l) => l.linkId).join(',')}, ','))`;
      const applied = new Map(rows.map((r) => [r.id, r.applied_version]));
      behind = links.filter((l) => (applied.get(l.linkId) ?? 0) < (lastVersion.get(l.app) ?? 0)).length;
      if (behind === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    herokuCalls += (await simClient.requests()).length;
    samples.push(await sample(servers, redis, (performance.now() - started) / 1000, rotations));
    const cpuEnd = Object.fromEntries(servers.map((s) => [s.name, cpuSeconds(s.child.pid)]));

    // Checks: the env var of every project against the app's current config, through the admin API and the sim.
    let mismatched = 0;
    await pool(links, 8, async (link) => {
      const [config, vars] = await Promise.all([
        simClient.configVars(link.app),
        adminClient.env(link.projectId, { reveal: true }),
      ]);
      const value = vars.find((v) => v.name === 'HASURA_GRAPHQL_DATABASE_URL')?.value;
      if (value !== config.DATABASE_URL) mismatched += 1;
    });
    const single = async (rows: Promise<{ n: number }[]>) => (await rows)[0]?.n ?? 0;
    const doubled = await single(sql<{ n: number }[]>`
      select count(*)::int as n from (
        select link_id, release_version from audit_log where id > ${mark} and action = 'env_synced'
        group by link_id, release_version having count(*) > 1) d`);
    const outOfOrder = await single(sql<{ n: number }[]>`
      select count(*)::int as n from (
        select release_version, lag(release_version) over (partition by link_id order by id) as previous
        from audit_log where action = 'env_synced') a
      where previous is not null and release_version <= previous`);
    const applied = await single(sql<{ n: number }[]>`
      select count(*)::int as n from audit_log where id > ${mark} and action = 'env_synced'`);
    const unhealthy = await single(
      sql<{ n: number }[]>`select count(*)::int as n from heroku_links where state <> 'active'`,
    );
    const perMinute = await sql<{ minute: number; n: number; p50: number; p99: number }[]>`
      select floor(extract(epoch from e.received_at - ${loadStartedAt.toISOString()}::timestamptz) / 60)::int as minute,
        count(*)::int as n,
        percentile_cont(0.5) within group (order by extract(epoch from a.at - e.received_at) * 1000) as p50,
        percentile_cont(0.99) within group (order by extract(epoch from a.at - e.received_at) * 1000) as p99
      from audit_log a join webhook_events e on e.event_id = a.event_id and e.link_id = a.link_id
      where a.id > ${mark} and a.action = 'env_synced'
      group by 1 order by 1`;
    const failedDeliveries = (await simClient.deliveries({ status: 'failed' })).length;
    const failedJobs = async (name: string) => {
      const queue = new Queue(name, { connection: redis, prefix: redisPrefix.prefix });
      try {
        return (await queue.getJobCounts('failed')).failed ?? 0;
      } finally {
        await queue.close();
      }
    };
    const failedEventJobs = await failedJobs(queueNames.events);
    const failedReconcileJobs = await failedJobs(queueNames.reconcile);

    console.log(
      `\nload: ${rotations} rotations in ${loadSeconds.toFixed(0)} s (${(rotations / loadSeconds).toFixed(1)}/s), ` +
        `${rotateErrors} rotate calls failed; drained ${drainSeconds.toFixed(1)} s after the load`,
    );
    console.log(`\nmemory (RSS MiB; JS heap used MiB in brackets where the app has /metrics):`);
    const names = Object.keys(samples[0]!.memory);
    console.log(['at s'.padStart(6), 'rotations'.padStart(10), ...names.map((n) => n.padStart(16))].join(' '));
    for (const s of samples) {
      console.log(
        [
          s.atS.toFixed(0).padStart(6),
          String(s.rotations).padStart(10),
          ...names.map((n) => {
            const m = s.memory[n]!;
            const text = `${m.rssMiB.toFixed(0)}${m.heapMiB === undefined ? '' : ` (${m.heapMiB.toFixed(0)})`}`;
            return text.padStart(16);
          }),
        ].join(' '),
      );
    }
    console.log(`\nwebhook-to-commit latency by minute of the load (received at the ingress → committed):`);
    for (const m of perMinute) {
      console.log(
        `  minute ${String(m.minute + 1).padStart(2)}: ${String(m.n).padStart(6)} applied, p50 ${Number(m.p50).toFixed(1)} ms, p99 ${Number(m.p99).toFixed(1)} ms`,
      );
    }
    console.log(
      `\nCPU seconds over the run: ` +
        servers.map((s) => `${s.name} ${(cpuEnd[s.name]! - cpuStart[s.name]!).toFixed(1)}`).join(', '),
    );
    const superseded = rotations - applied;
    console.log(
      `\napplied releases: ${applied} of ${rotations} rotations (${superseded} superseded: a newer release of the app ` +
        `was applied first, so the older one was recorded as stale); Heroku calls per applied release: ` +
        `${(herokuCalls / Math.max(1, applied)).toFixed(2)}`,
    );
    const checks = {
      'links behind their app (lost)': behind,
      'env vars different from the app (lost)': mismatched,
      'releases applied twice (doubled)': doubled,
      'audit rows out of release order': outOfOrder,
      'links not active': unhealthy,
      'deliveries that failed': failedDeliveries,
      'failed event jobs': failedEventJobs,
      'failed reconcile jobs': failedReconcileJobs,
      'rotate calls that failed': rotateErrors,
    };
    for (const [label, value] of Object.entries(checks))
      console.log(`${value === 0 ? 'ok  ' : 'FAIL'} ${label}: ${value}`);
    failed = Object.values(checks).some((v) => v !== 0);
  } finally {
    await Promise.all(servers.map((s) => stopServerProcess(s)));
    await redisPrefix.cleanup();
    redis.disconnect();
    await database.drop();
  }
  process.exitCode = failed ? 1 : 0;
}

await main();
