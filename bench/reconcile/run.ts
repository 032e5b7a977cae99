/**
 * `npm run bench:reconcile`: how long a rotation whose webhook is lost waits for the reconciler, and what the
 * reconciler spends, on accounts with many apps. One heroku-sim account with 10,000 linked apps and one with 1,000,
 * every webhook delivery dropped, rotations at random times over 10 minutes; run once with sweeps
 * (`RECONCILE_MODE=sweep`) and once with the per-link polling of before (`per-link`), in one run. It prints, per
 * mode and account: rotation-to-commit p50/p99/max, rotations caught, and Heroku calls per hour against the
 * reconciler's share (10% of 4,500).
 *
 * Simulated time: everything runs BENCH_SPEED (4) times faster than it says: the sim's rate limiter refills 4×
 * faster, the service's hourly budget, tick, minimum interval, bucket, grace and intervals are scaled alike, and times are
 * reported scaled back (a 20 s wait at speed 4 is reported as 80 s). Work the machine does (HTTP, Postgres,
 * JSON) is not scaled, so it weighs BENCH_SPEED times more than it would: the figures are pessimistic by that much.
 *
 * Before the 10 minutes, a warm-up (BENCH_WARMUP_MIN, 3 simulated minutes) lets the reconciler reach its steady
 * pace; the links start as a long-running deployment has them: all caught up, per-link checks and webhook checks
 * spread over their intervals. Environment (optional): BENCH_SPEED, BENCH_WINDOW_MIN (10), BENCH_WARMUP_MIN (3),
 * BENCH_DRAIN_MIN (5), BENCH_ACCOUNTS ("10000:5,1000:10": apps and rotations per account), BENCH_MODES
 * ("sweep,per-link").
 */
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_MAPPINGS, webhookSecret, webhookUrl } from '@hds/sync';
import { HerokuClient } from '@hds/heroku';
import { Pipeline } from '@hds/testkit/pipeline';

const SPEED = Number(process.env.BENCH_SPEED ?? 4);
const WINDOW_MIN = Number(process.env.BENCH_WINDOW_MIN ?? 10);
const WARMUP_MIN = Number(process.env.BENCH_WARMUP_MIN ?? 3);
const DRAIN_MIN = Number(process.env.BENCH_DRAIN_MIN ?? 5);
const ACCOUNTS = (process.env.BENCH_ACCOUNTS ?? '10000:5,1000:10').split(',').map((s) => {
  const [apps, rotations] = s.split(':').map(Number);
  return { apps: apps ?? 1000, rotations: rotations ?? 5 };
});
const MODES = (process.env.BENCH_MODES ?? 'sweep,per-link').split(',') as Array<'sweep' | 'per-link'>;
const HOURLY_BUDGET = 4500;
const SHARE = 0.1;
const TARGET_P99_S: Record<number, number> = { 10_000: 120, 1000: 30 };

/** Real milliseconds for `simMs` simulated ones. */
const real = (simMs: number) => simMs / SPEED;
const MINUTE = 60_000;

interface Rotation {
  linkId: string;
  app: string;
  version: number;
  at: number;
  committedAt?: number;
}

interface AccountRun {
  apps: number;
  simAccountId: string;
  rotations: Rotation[];
}

async function seedAccount(pipeline: Pipeline, options: { apps: number; mode: 'sweep' | 'per-link' }) {
  const { sim } = pipeline;
  const simAccount = sim.createAccount({ email: `bench-${options.apps}-${Date.now()}@example.com` });
  // Setting up spends no budget worth counting: a bucket as large as the work, given back before the run.
  sim.setFaults({ budgets: [{ accountId: simAccount.id, remaining: 1_000_000, capacity: 1_000_000 }] });
  const { account } = await pipeline.sync.addAccount({ apiKey: simAccount.apiKey });
  const apps = Array.from({ length: options.apps }, (_, i) =>
    sim.createApp({ name: `b${options.apps}-${i}-${simAccount.id.slice(0, 6)}`, accountId: simAccount.id }),
  );
  const ctx = pipeline.sync.ctx;
  const pg = ctx.db.$client;
  // Steady state: per-link checks and routine webhook checks spread over their intervals.
  const perLinkIntervalS = real((options.apps * 2 * 3600 * 1000) / (SHARE * HOURLY_BUDGET)) / 1000;
  const dayS = real(24 * 3600 * 1000) / 1000;
  const links: { id: string; appId: string; app: string }[] = [];
  for (let start = 0; start < apps.length; start += 1000) {
    const chunk = apps.slice(start, start + 1000);
    const rows = await pg<{ id: string; app_id: string; app_name: string }[]>`
      with p as (
        insert into projects (name)
        select 'bench ' || n from jsonb_array_elements_text(${JSON.stringify(chunk.map((a) => a.name))}::jsonb) as n
        returning id, name
      )
      insert into heroku_links (project_id, account_id, app_id, app_name, mappings, applied_mappings, applied_version,
        target_version, last_synced_at, last_reconciled_at, released_at_seen, next_reconcile_at, webhook_check_due_at)
      select p.id, ${account.id}::uuid, a.id, a.name, ${JSON.stringify(DEFAULT_MAPPINGS)}::jsonb,
        ${JSON.stringify(DEFAULT_MAPPINGS)}::jsonb, 1, 1, now(), now(), now() + interval '2 seconds',
        now() + random() * ${perLinkIntervalS} * interval '1 second',
        now() + random() * ${dayS} * interval '1 second'
      from p join jsonb_to_recordset(${JSON.stringify(chunk.map((a) => ({ id: a.id, name: a.name })))}::jsonb)
          as a(id uuid, name text)
        on p.name = 'bench ' || a.name
      returning id, app_id, app_name`;
    links.push(...rows.map((r) => ({ id: r.id, appId: r.app_id, app: r.app_name })));
  }
  // Each link's webhook, as enabling makes it (its id kept on the link).
  const client = new HerokuClient({ baseUrl: pipeline.simUrl, auth: { token: () => simAccount.apiKey } });
  for (let i = 0; i < links.length; i += 50) {
    await Promise.all(
      links.slice(i, i + 50).map(async (link) => {
        const url = webhookUrl(ctx, link.id);
        // A retried create (a slow answer) finds the first one made.
        const webhookId = await client
          .createWebhook(link.appId, {
            include: ['api:release'],
            level: 'sync',
            url,
            secret: webhookSecret(ctx, link.id),
          })
          .then(
            (created) => created.webhook.id,
            async () => (await client.listWebhooks(link.appId)).find((w) => w.url === url)!.id,
          );
        await pg`update heroku_links set webhook_id = ${webhookId}, webhook_key_hash = ${signingKeyHashOf(pipeline)}
          where id = ${link.id}`;
      }),
    );
  }
  return { simAccountId: simAccount.id, accountId: account.id, links, mode: options.mode };
}

/** The key hash the service records for webhooks made with its current signing key. */
let keyHash: string | undefined;
function signingKeyHashOf(pipeline: Pipeline): string {
  keyHash ??= pipeline.sync.ctx.keyring.fingerprint(
    `heroku-db-sync/webhook-signing-key:${pipeline.sync.ctx.webhooks.signingKeys[0]!}`,
  );
  return keyHash;
}

function quantile(sorted: number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

async function runMode(mode: 'sweep' | 'per-link') {
  const pipeline = await Pipeline.start({
    workers: 1,
    reconcileTickMs: real(2000),
    reconcileMode: mode,
    poolSize: 10,
    sim: { rateLimit: { capacity: HOURLY_BUDGET, refillPerMinute: (HOURLY_BUDGET / 60) * SPEED } },
    sync: {
      accountHourlyBudget: HOURLY_BUDGET * SPEED,
      reconcileBudgetShare: SHARE,
      reconcileMinIntervalMs: real(10_000),
      webhookGraceMs: real(120_000),
      reconcileBucketMs: real(60_000),
      webhookCheckIntervalMs: real(24 * 3600 * 1000),
      rateLimitBackoffMs: real(30_000),
      leaseMs: real(60_000),
    },
  });
  try {
    const seeded = [];
    for (const a of ACCOUNTS) seeded.push(await seedAccount(pipeline, { apps: a.apps, mode }));
    pipeline.sim.setFaults({
      budgets: seeded.map((s) => ({
        accountId: s.simAccountId,
        remaining: HOURLY_BUDGET,
        capacity: HOURLY_BUDGET,
        refillPerMinute: (HOURLY_BUDGET / 60) * SPEED,
      })),
      deliveries: { drop: { rate: 1 } },
    });
    console.log(`[${mode}] seeded ${seeded.map((s) => s.links.length).join(' + ')} links; warming up`);
    await sleep(real(WARMUP_MIN * MINUTE));

    // Rotations at random times over the window.
    pipeline.sim.clearRequests();
    const windowStart = Date.now();
    const runs: AccountRun[] = seeded.map((s) => ({
      apps: s.links.length,
      simAccountId: s.simAccountId,
      rotations: [],
    }));
    const plan = seeded.flatMap((s, i) =>
      Array.from({ length: ACCOUNTS[i]!.rotations }, () => ({
        account: i,
        link: s.links[Math.floor(Math.random() * s.links.length)]!,
        atMs: Math.random() * real(WINDOW_MIN * MINUTE),
      })),
    );
    plan.sort((a, b) => a.atMs - b.atMs);
    const rotating = (async () => {
      for (const p of plan) {
        const wait = windowStart + p.atMs - Date.now();
        if (wait > 0) await sleep(wait);
        const rotation = pipeline.sim.rotateCredentials({ app: p.link.app });
        runs[p.account]!.rotations.push({
          linkId: p.link.id,
          app: p.link.app,
          version: rotation.version,
          at: Date.now(),
        });
      }
    })();
    const windowEnd = windowStart + real(WINDOW_MIN * MINUTE);
    const deadline = windowEnd + real(DRAIN_MIN * MINUTE);
    let callsInWindow: Map<string, { calls: number; refused: number }> | undefined;
    for (;;) {
      await sleep(200);
      const pending = runs.flatMap((r) => r.rotations.filter((x) => x.committedAt === undefined));
      if (pending.length > 0) {
        const rows = await pipeline.sync.ctx.db.$client<
          { id: string; applied_version: number; last_synced_at: Date }[]
        >`
          select id, applied_version, last_synced_at from heroku_links
          where id in (select jsonb_array_elements_text(${JSON.stringify(pending.map((p) => p.linkId))}::jsonb)::uuid)`;
        const byId = new Map(rows.map((r) => [r.id, r]));
        for (const p of pending) {
          const row = byId.get(p.linkId);
          if (row && row.applied_version >= p.version) p.committedAt = new Date(row.last_synced_at).getTime();
        }
      }
      if (callsInWindow === undefined && Date.now() >= windowEnd) {
        callsInWindow = new Map();
        for (const r of pipeline.sim.requests()) {
          if (r.accountId === null) continue;
          const c = callsInWindow.get(r.accountId) ?? { calls: 0, refused: 0 };
          c.calls += 1;
          if (r.status === 429) c.refused += 1;
          callsInWindow.set(r.accountId, c);
        }
      }
      const done = plan.length === runs.reduce((n, r) => n + r.rotations.length, 0) && pending.length === 0;
      if ((done && callsInWindow) || Date.now() > deadline) break;
    }
    await rotating;
    return runs.map((r) => {
      const waits = r.rotations
        .filter((x) => x.committedAt !== undefined)
        .map((x) => ((x.committedAt! - x.at) * SPEED) / 1000)
        .sort((a, b) => a - b);
      const c = callsInWindow?.get(r.simAccountId) ?? { calls: 0, refused: 0 };
      const perHour = (c.calls * 60) / WINDOW_MIN;
      return {
        mode,
        apps: r.apps,
        rotations: r.rotations.length,
        caught: waits.length,
        p50: quantile(waits, 0.5),
        p99: quantile(waits, 0.99),
        max: waits.at(-1),
        callsPerHour: Math.round(perHour),
        refused: c.refused,
        shareOfBudget: perHour / HOURLY_BUDGET,
        waits,
      };
    });
  } finally {
    await pipeline.close();
  }
}

const fmt = (s: number | undefined) => (s === undefined ? '—' : `${s.toFixed(1)} s`);
const results = [];
for (const mode of MODES) results.push(...(await runMode(mode)));
console.log(
  `\nreconcile benchmark: speed ×${SPEED}, window ${WINDOW_MIN} min, warm-up ${WARMUP_MIN} min, drain ≤ ${DRAIN_MIN} min (simulated); ${cpus().length} cores, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log('| mode | apps | rotations caught | p50 | p99 | max | Heroku calls/h (429s) | share of 4,500 | target |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  const target = TARGET_P99_S[r.apps];
  const met =
    target === undefined
      ? ''
      : r.caught === r.rotations && (r.p99 ?? Infinity) <= target && r.shareOfBudget <= SHARE * 1.1
        ? `met (p99 ≤ ${target} s, ≤ 11%)`
        : `missed (p99 ≤ ${target} s, ≤ 11%)`;
  console.log(
    `| ${r.mode} | ${r.apps} | ${r.caught}/${r.rotations} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${r.callsPerHour} (${r.refused}) | ${(r.shareOfBudget * 100).toFixed(1)}% | ${met} |`,
  );
}
console.log('\nrotation-to-commit of every rotation caught, in seconds (simulated):');
for (const r of results) console.log(`${r.mode} ${r.apps}: ${r.waits.map((w) => w.toFixed(1)).join(' ')}`);
process.exit(0);
