// `npm run demo` as a user runs it: it tells the story, exits 0, shows no password and leaves nothing behind.
import { startProcess, testServices } from '@hds/testkit';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';

describe('npm run demo', () => {
  it('applies three rotations, prints each with its delay and the audit log, and cleans up', async () => {
    const demo = startProcess({
      name: 'demo',
      args: ['--conditions=@hds/source', '--import', 'tsx', 'tools/demo.ts'],
      env: { DATABASE_URL: testServices.pgAdminUrl, REDIS_URL: testServices.redisUrl },
    });
    const result = await demo.exited;
    const out = result.stdout;
    expect(result.code, `${out}\n${result.stderr}`).toBe(0);

    for (const n of [1, 2, 3]) {
      expect(out).toMatch(
        new RegExp(`rotation ${n}: Heroku made release v${n + 1}; the project had the new URL \\d+ ms later`),
      );
    }
    expect(out.match(/env_synced +by webhook +v\d/g)).toHaveLength(3);
    expect(out).toContain('All 3 rotations were applied.');
    // Every URL it prints is masked.
    const urls = out.match(/postgres:\/\/[^\s]+/g) ?? [];
    expect(urls.length).toBeGreaterThan(3);
    for (const url of urls) expect(new URL(url).password).toBe('****');

    // Its database and Redis keys are gone.
    const database = /database (hds_demo_\w+) dropped/.exec(out)?.[1];
    const prefix = /Redis keys (hdsdemo_\w+):\* deleted/.exec(out)?.[1];
    expect(database).toBeDefined();
    expect(prefix).toBeDefined();
    const sql = postgres(testServices.pgAdminUrl, { max: 1, onnotice: () => {} });
    const redis = new Redis(testServices.redisUrl);
    try {
      expect(await sql`select 1 from pg_database where datname = ${database!}`).toHaveLength(0);
      expect(await redis.keys(`${prefix!}:*`)).toEqual([]);
    } finally {
      await sql.end();
      redis.disconnect();
    }
  });
});
