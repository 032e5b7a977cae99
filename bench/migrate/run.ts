/**
 * `npm run bench:migrate`: a data migration off heroku-sim's real Postgres against `pg_dump -Fc | pg_restore` of the
 * same database, in the same run, on the same private cluster. The source is the sim's seed schema seeded twice
 * (BENCH_MIGRATE_ROWS rows a round, default 1,000,000: over 2 million rows in 5 tables, plus a partitioned table,
 * a materialized view and a trigger). Prints rows/s for both, and the ratio (target: ≥ 0.8 of pg_restore's).
 * Not part of `npm test`. BENCH_MIGRATE_COPY_CONCURRENCY (default 2) sets the tables copied at once.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { createLogger } from '@hds/core';
import { libpqEnv } from '@hds/migrate-data';
import { startMigrateRig } from '../../packages/migrate-data/src/test-support/migrate-rig.js';

const ROWS = Number(process.env.BENCH_MIGRATE_ROWS ?? 1_000_000);
const COPY_CONCURRENCY = Number(process.env.BENCH_MIGRATE_COPY_CONCURRENCY ?? 2);
const TARGET_RATIO = 0.8;

/** The migration's state changes, with their times (from its debug log). */
const phases: { state: string; at: number }[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      const entry = JSON.parse(line) as { msg?: string; state?: string; time?: number };
      if (entry.msg === 'data migration moves on' && entry.state && entry.time)
        phases.push({ state: entry.state, at: entry.time });
    }
    callback();
  },
});

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`))));
  });
}

/** `pg_dump -Fc source | pg_restore --no-owner --no-acl -d target`, as one shell pipeline. */
async function dumpAndRestore(sourceUrl: string, targetUrl: string): Promise<void> {
  const target = libpqEnv(targetUrl);
  const env = {
    ...libpqEnv(sourceUrl),
    T_HOST: target.PGHOST,
    T_PORT: target.PGPORT,
    T_USER: target.PGUSER,
    T_PASSWORD: target.PGPASSWORD,
    T_DB: target.PGDATABASE,
  };
  await run(
    'bash',
    [
      '-o',
      'pipefail',
      '-c',
      'pg_dump -Fc | PGHOST=$T_HOST PGPORT=$T_PORT PGUSER=$T_USER PGPASSWORD=$T_PASSWORD ' +
        'pg_restore --no-owner --no-acl --exit-on-error -d "$T_DB"',
    ],
    env,
  );
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

const logger = createLogger({ app: 'bench', level: 'debug', destination: logSink });
const rig = await startMigrateRig(
  { copyConcurrency: COPY_CONCURRENCY, progressIntervalMs: 1000, cancelPollMs: 1000 },
  { logger },
);
try {
  console.log(`seeding ${ROWS * 2} rows (two rounds of ${ROWS})…`);
  const seededAt = Date.now();
  const { projectId, app, sourceUrl } = await rig.project({ rows: ROWS });
  await rig.sim.seed({ app, rows: ROWS });
  await rig.superuser(sourceUrl)`vacuum analyze`;
  const counts = await rig.superuser(sourceUrl)<{ name: string; rows: number }[]>`
    select relname as name, n_live_tup::int as rows from pg_stat_user_tables order by 1`;
  const totalRows = counts.reduce((n, c) => n + c.rows, 0);
  const [size] = await rig.superuser(sourceUrl)<{ mb: number }[]>`
    select (pg_database_size(current_database()) / 1048576)::int as mb`;
  console.log(`seeded in ${seconds(Date.now() - seededAt)} s: ${totalRows} rows, ${size?.mb} MiB`, counts);

  const restoreTarget = await rig.targetDatabase();
  const restoreStart = Date.now();
  await dumpAndRestore(sourceUrl, restoreTarget);
  const restoreMs = Date.now() - restoreStart;

  const migrationTarget = await rig.targetDatabase();
  const migrationStart = Date.now();
  const started = await rig.migrations.start({ projectId, targetUrl: migrationTarget });
  const result = await rig.migrations.run({ migrationId: started.id, lastAttempt: true });
  const migrationMs = Date.now() - migrationStart;
  if (result.state !== 'done') throw new Error(`the migration ended ${result.state}: ${result.error}`);
  const verifyingAt = phases.find((p) => p.state === 'verifying')?.at ?? Date.now();
  const copyMs = verifyingAt - migrationStart;
  const verifyMs = migrationMs - copyMs;

  const rate = (ms: number) => Math.round(totalRows / (ms / 1000));
  const ratioCopy = restoreMs / copyMs;
  const ratioAll = restoreMs / migrationMs;
  const phaseTimes = phases.map((p, i) => `${p.state} +${seconds(p.at - (phases[i - 1]?.at ?? migrationStart))}s`);
  console.log(
    JSON.stringify(
      {
        machine: { cpus: cpus().length, loadavg: loadavg().map((l) => l.toFixed(2)) },
        rows: totalRows,
        sizeMiB: size?.mb,
        copyConcurrency: COPY_CONCURRENCY,
        pgDumpRestore: { seconds: seconds(restoreMs), rowsPerS: rate(restoreMs) },
        migration: {
          seconds: seconds(migrationMs),
          rowsPerS: rate(migrationMs),
          withoutVerification: { seconds: seconds(copyMs), rowsPerS: rate(copyMs) },
          verificationSeconds: seconds(verifyMs),
          phases: phaseTimes,
        },
        ratio: { copy: ratioCopy.toFixed(2), withVerification: ratioAll.toFixed(2), target: TARGET_RATIO },
      },
      null,
      2,
    ),
  );
  console.log(ratioCopy >= TARGET_RATIO ? 'target met' : 'TARGET MISSED');
} finally {
  await rig.close();
}
