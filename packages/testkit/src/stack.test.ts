import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { testServices } from './config.js';
import { migrationsFolder } from '@hds/db';
import { createStackDatabase } from './stack-database.js';
import { formatLogLine } from './stack-logs.js';
import { startStack, type Stack } from './stack.js';

const admin = postgres(testServices.pgAdminUrl, { max: 1, onnotice: () => {} });
const redis = new Redis(testServices.redisUrl, { lazyConnect: true });
afterAll(async () => {
  await admin.end();
  redis.disconnect();
});

const databaseExists = async (name: string) =>
  (await admin`select 1 from pg_database where datname = ${name}`).length > 0;
const keysUnder = async (prefix: string) => {
  if (redis.status !== 'ready') await redis.connect();
  return (await redis.keys(`${prefix}:*`)).length;
};
const portAnswers = async (url: string) =>
  fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
    (res) => res.ok,
    () => false,
  );

describe('startStack', () => {
  it('fails at once, saying to build, when the apps are not built', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hds-unbuilt-'));
    try {
      writeFileSync(join(root, 'package.json'), JSON.stringify({ workspaces: [] }));
      await expect(startStack({ root })).rejects.toThrow(
        /not built \(missing: apps\/heroku-sim\/dist\/main\.js, .*\)\. Run `npm run build` first/,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('runs each app as a process; stops, kills and restarts one; closes everything it opened', async () => {
    const stack: Stack = await startStack({ workers: 1, workerEnv: { WORKER_CONCURRENCY: '3' } });
    let closed = false;
    try {
      expect(stack.processes().map((p) => p.name)).toEqual(['heroku-sim', 'ingress', 'worker-1', 'admin']);
      for (const p of stack.processes()) expect(await portAnswers(p.url)).toBe(true);
      // Workers get the tunables.
      expect(stack.process('worker-1').logLines.find((l) => l.includes('worker consuming'))).toContain(
        '"concurrency":3',
      );
      // The admin and workers are wired to the sim and the ingress, with the sim's OAuth client.
      expect((await stack.sim.accounts()).length).toBe(0);
      const simAccount = await stack.sim.createAccount({ email: 'stack@example.com' });
      expect(await stack.admin.addAccount(simAccount.apiKey)).toMatchObject({ email: 'stack@example.com' });

      // A second worker with its own env; kill it (a crash).
      const second = await stack.startWorker({ WORKER_CONCURRENCY: '5' });
      expect(second.name).toBe('worker-2');
      expect(second.logLines.find((l) => l.includes('worker consuming'))).toContain('"concurrency":5');
      expect(stack.workers().map((w) => w.name)).toEqual(['worker-1', 'worker-2']);
      expect((await stack.kill('worker-2')).signal).toBe('SIGKILL');
      expect(stack.workers().map((w) => w.name)).toEqual(['worker-1']);

      // SIGTERM: a clean exit; a restart comes back on the same port.
      const ingress = stack.process('ingress');
      expect((await stack.stop('ingress')).code).toBe(0);
      expect(await portAnswers(ingress.url)).toBe(false);
      const restarted = await stack.restart('ingress');
      expect(restarted.port).toBe(ingress.port);
      expect(await portAnswers(restarted.url)).toBe(true);

      // Logs: per process, in a file and in memory, every incarnation; readable on demand.
      const lines = readFileSync(restarted.logFile, 'utf8').split('\n');
      expect(lines.filter((l) => l.includes('"msg":"ingress listening"'))).toHaveLength(2);
      expect(lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
      // The newest line is the restarted ingress's own (its "listening" or, later, "redis ready"), formatted.
      expect(stack.logs({ names: ['ingress'], tail: 1 })).toMatch(/^--- ingress \(.*ingress\.log\)\n.*INFO/);
      expect(() => stack.process('nope')).toThrow(/no process nope/);

      const { database, redisPrefix, logDir } = stack;
      expect(await databaseExists(database.name)).toBe(true);
      expect(await keysUnder(redisPrefix)).toBeGreaterThan(0);
      const processes = stack.processes();
      await stack.close();
      closed = true;
      expect(processes.every((p) => !p.running)).toBe(true);
      expect(await databaseExists(database.name)).toBe(false);
      expect(await keysUnder(redisPrefix)).toBe(0);
      expect(existsSync(logDir)).toBe(false);
      await expect(stack.close()).resolves.toBeUndefined(); // closing twice is harmless
    } finally {
      if (!closed) await stack.close();
    }
  });
});

describe('createStackDatabase in migrate mode', () => {
  it('creates a database with every migration applied by the built CLI, and drops it', async () => {
    const database = await createStackDatabase({ mode: 'migrate', prefix: 'hds_stacktest' });
    try {
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        const [row] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
        expect(row?.n).toBe(readdirSync(migrationsFolder).filter((f) => f.endsWith('.sql')).length);
      } finally {
        await sql.end();
      }
      expect(await databaseExists(database.name)).toBe(true);
    } finally {
      await database.drop();
    }
    expect(await databaseExists(database.name)).toBe(false);
  });
});

describe('formatLogLine', () => {
  it('shows a pino line as time, level, message and the other fields; anything else as it is', () => {
    const line = JSON.stringify({ level: 40, time: Date.UTC(2025, 0, 1, 12, 0, 1, 234), pid: 1, msg: 'hi', a: 1 });
    expect(formatLogLine(line)).toBe('12:00:01.234 WARN  hi {"a":1}');
    expect(formatLogLine('plain text')).toBe('plain text');
    expect(formatLogLine('{not json')).toBe('{not json');
  });
});
