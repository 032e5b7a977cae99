// `npm run demo` as a user runs it: it tells the story, exits 0, shows no password and leaves nothing behind. The
// app's database is real: after each rotation the old URL must be refused and the new one must connect.
import { startProcess, testServices } from '@hds/testkit';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';

describe('npm run demo', () => {
  it('applies three rotations, connects with each new URL while the old one is refused, and cleans up', async () => {
    const demo = startProcess({
      name: 'demo',
      args: ['--conditions=@hds/source', '--import', 'tsx', 'tools/demo.ts'],
      env: { DATABASE_URL: testServices.pgAdminUrl, REDIS_URL: testServices.redisUrl },
    });
    const result = await demo.exited;
    const out = result.stdout;
    expect(result.code, `${out}\n${result.stderr}`).toBe(0);

    const customers = /seeded: customers (\d+),/.exec(out)?.[1];
    expect(customers).toBeDefined();
    expect(out).toContain(`connecting with it: ok, ${customers} customers`);
    for (const n of [1, 2, 3]) {
      const rotation = new RegExp(
        `rotation ${n}: Heroku made release v${n + 1}; the project had the new URL \\d+ ms later\n.*\n` +
          '      the old URL is refused: 28P01 password authentication failed for user "\\*\\*\\*\\*"\n' +
          `      the new URL connects: ${customers} customers\n`,
      );
      expect(out).toMatch(rotation);
    }
    expect(out).toContain("Each time the project's URL connected and the one it replaced was refused.");
    expect(out.match(/env_synced +by webhook +v\d/g)).toHaveLength(3);
    expect(out).toContain('All 3 rotations were applied.');
    // Every URL it prints is masked.
    const urls = out.match(/postgres:\/\/[^\s]+/g) ?? [];
    expect(urls.length).toBeGreaterThan(3);
    for (const url of urls) expect(new URL(url).password).toBe('****');
    // Nor the role names of heroku-sim's databases (`<prefix>_u<12>`), which are half of a credential.
    expect(out).not.toMatch(/hsim_[0-9a-f]{8}_u[a-z0-9]{12}/);

    // Its database and Redis keys are gone.
    const database = /database (hds_demo_\w+) dropped/.exec(out)?.[1];
    const prefix = /Redis keys (hdsdemo_\w+):\* deleted/.exec(out)?.[1];
    expect(database).toBeDefined();
    expect(prefix).toBeDefined();
    const sql = postgres(testServices.pgAdminUrl, { max: 1, onnotice: () => {} });
    const redis = new Redis(testServices.redisUrl);
    try {
      expect(await sql`select 1 from pg_database where datname = ${database!}`).toHaveLength(0);
      // heroku-sim's state database beside it, too.
      expect(await sql`select 1 from pg_database where datname = ${`${database!}_sim`}`).toHaveLength(0);
      expect(await redis.keys(`${prefix!}:*`)).toEqual([]);
    } finally {
      await sql.end();
      redis.disconnect();
    }
  }, 90_000);
});
