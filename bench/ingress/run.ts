/**
 * `npm run bench:ingress`: the same signed load against (a) a bare express 5 handler and (b) the built ingress
 * storing every delivery in Redis, each server in its own child process. Prints accepted requests/s, p50 and p99
 * for each and the ratio b/a. Not part of `npm test`.
 *
 * The two servers run side by side and are measured in alternation, `BENCH_ROUNDS` times, so that a slow spell of a
 * shared machine hits both; the verdict uses the medians.
 *
 * Environment (all optional): BENCH_ROUNDS (3), BENCH_DURATION_S (10), BENCH_WARMUP_S (3), BENCH_CONNECTIONS (32),
 * BENCH_LINKS (64), BENCH_REDIS_URL (default: a private redis-server with appendonly yes, appendfsync everysec).
 */
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { deleteKeysWithPrefix, startRedisServer, testSecret, uniqueName, type RedisServer } from '@hds/testkit';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSignedLoad } from './signed-load.js';

const settings = {
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  durationS: Number(process.env.BENCH_DURATION_S ?? 10),
  warmupS: Number(process.env.BENCH_WARMUP_S ?? 3),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 32),
  links: Number(process.env.BENCH_LINKS ?? 64),
};
const SIGNING_KEYS = [testSecret('bench signing key new'), testSecret('bench signing key old')];
const TARGET = { ratio: 0.55, p99Ms: 25 };

interface Measured {
  name: string;
  round: number;
  acceptedPerS: number;
  p50: number;
  p99: number;
  accepted: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function load(port: number, seconds: number, next: ReturnType<typeof createSignedLoad>) {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: settings.connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const delivery = next();
          return { ...request, path: delivery.path, body: delivery.body, headers: delivery.headers };
        },
      },
    ],
  });
}

/** Warms up, runs `beforeMeasuring` (e.g. to note the queue's length), then measures. */
async function measure(
  name: string,
  round: number,
  port: number,
  beforeMeasuring: () => Promise<void> = async () => {},
): Promise<Measured> {
  const next = createSignedLoad({ signingKey: SIGNING_KEYS[0]!, links: settings.links });
  if (settings.warmupS > 0) await load(port, settings.warmupS, next);
  await beforeMeasuring();
  const result = await load(port, settings.durationS, next);
  return {
    name,
    round,
    acceptedPerS: result['2xx'] / (result.duration || settings.durationS),
    p50: result.latency.p50,
    p99: result.latency.p99,
    accepted: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

async function redisDescription(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  const [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
  const [, fsync] = (await redis.config('GET', 'appendfsync')) as string[];
  const [, save] = (await redis.config('GET', 'save')) as string[];
  return `Redis ${version} (appendonly ${appendonly}, appendfsync ${fsync}, save "${save}")`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function row(label: string, m: Pick<Measured, 'name' | 'acceptedPerS' | 'p50' | 'p99'> & Partial<Measured>): string {
  return [
    label.padEnd(7),
    m.name.padEnd(30),
    m.acceptedPerS.toFixed(0).padStart(11),
    m.p50.toFixed(1).padStart(7),
    m.p99.toFixed(1).padStart(7),
    (m.accepted === undefined ? '' : String(m.accepted)).padStart(9),
    (m.non2xx === undefined ? '' : String(m.non2xx + m.errors! + m.timeouts!)).padStart(7),
  ].join(' ');
}

async function main(): Promise<void> {
  let privateRedis: RedisServer | undefined;
  let redisUrl = process.env.BENCH_REDIS_URL;
  if (redisUrl === undefined) {
    privateRedis = await startRedisServer({ args: ['--appendonly', 'yes', '--appendfsync', 'everysec'] });
    redisUrl = privateRedis.url;
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const prefix = uniqueName('hdsbench');
  const cpu = cpus();
  const machine = `${cpu[0]?.model.trim() ?? '?'} (${cpu.length} cores), Node ${process.version}, ${await redisDescription(redis)}`;
  console.log(
    `Ingress benchmark: ${settings.rounds} rounds of (a) then (b); each ${settings.warmupS} s warm-up + ` +
      `${settings.durationS} s measured, ${settings.connections} connections, distinct signed api:release ` +
      `deliveries over ${settings.links} links`,
  );
  console.log(`machine: ${machine}\n`);
  console.log(
    `${'round'.padEnd(7)} ${'server'.padEnd(30)} ${'accepted/s'.padStart(11)} ${'p50 ms'.padStart(7)} ` +
      `${'p99 ms'.padStart(7)} ${'accepted'.padStart(9)} ${'failed'.padStart(7)}`,
  );

  const bareRuns: Measured[] = [];
  const ingressRuns: Measured[] = [];
  const missingJobs: string[] = [];
  let bare: ServerProcess | undefined;
  let ingress: ServerProcess | undefined;
  try {
    bare = await startServerProcess('bare', ['bench/ingress/bare-server.js'], {});
    ingress = await startServerProcess('ingress', ['apps/ingress/dist/main.js'], {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      WEBHOOK_SIGNING_KEYS: SIGNING_KEYS.join(','),
      LOG_LEVEL: 'info',
    });
    const waitKey = `${prefix}:heroku-events:wait`;
    for (let round = 1; round <= settings.rounds; round += 1) {
      const a = await measure('(a) bare express 5 handler', round, bare.port);
      bareRuns.push(a);
      console.log(row(String(round), a));
      let before = 0;
      const b = await measure('(b) ingress + Redis (BullMQ)', round, ingress.port, async () => {
        before = await redis.llen(waitKey);
      });
      ingressRuns.push(b);
      console.log(row(String(round), b));
      // Every delivery answered 202 must be a job in Redis (a few more may land as the load stops mid-flight).
      const stored = (await redis.llen(waitKey)) - before;
      if (stored < b.accepted) missingJobs.push(`round ${round}: ${b.accepted} accepted, ${stored} jobs stored`);
    }
  } finally {
    for (const server of [bare, ingress]) {
      if (server === undefined) continue;
      await stopServerProcess(server);
      rmSync(server.logFile, { force: true });
    }
    await deleteKeysWithPrefix(redis, prefix);
    redis.disconnect();
    await privateRedis?.close();
  }

  const summary = (runs: Measured[]) => ({
    name: runs[0]!.name,
    acceptedPerS: median(runs.map((r) => r.acceptedPerS)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
  });
  const a = summary(bareRuns);
  const b = summary(ingressRuns);
  console.log(row('median', a));
  console.log(row('median', b));

  const ratios = ingressRuns.map((run, i) => run.acceptedPerS / bareRuns[i]!.acceptedPerS);
  const ratio = median(ratios);
  const pass = ratio >= TARGET.ratio && b.p99 <= TARGET.p99Ms;
  console.log(`\nratio b/a per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}`);
  console.log(
    `ratio b/a (median): ${ratio.toFixed(2)} (target >= ${TARGET.ratio}); p99 of b (median): ${b.p99.toFixed(1)} ms ` +
      `(target <= ${TARGET.p99Ms} ms) -> ${pass ? 'target met' : 'target missed'}`,
  );
  console.log(
    missingJobs.length === 0
      ? 'every delivery (b) accepted is a job in Redis'
      : `MISSING JOBS: ${missingJobs.join('; ')}`,
  );
  const failed = [...bareRuns, ...ingressRuns].some((r) => r.non2xx + r.errors + r.timeouts > 0);
  if (missingJobs.length > 0 || failed) process.exitCode = 1;
}

await main();
