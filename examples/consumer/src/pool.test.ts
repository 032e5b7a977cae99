// The consumer's pool against a password-checking PostgreSQL: a rotation is what Heroku does (a new password for the
// role, the role's sessions ended), and the swap is what a delivery of the new URL makes the consumer do.
import { randomBytes } from 'node:crypto';
import { startSimPostgres, waitFor, type PostgresServer } from '@hds/testkit';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SwappablePool } from './pool.js';

let server: PostgresServer;
let admin: postgres.Sql;
let password = '';
const pools: SwappablePool[] = [];

const url = () => `postgres://consumer:${password}@127.0.0.1:${server.port}/postgres`;

/** Heroku's rotation: a new password, and every session of the role ended (57P01). */
async function rotate(): Promise<void> {
  password = randomBytes(12).toString('hex');
  await admin.unsafe(`alter role consumer password '${password}'`);
  await admin`select pg_terminate_backend(pid) from pg_stat_activity where usename = 'consumer'`;
}

/** How long the test query sleeps, in seconds (read by the query itself, so a run already cut can be let through). */
const sleepFor = (seconds: number) => admin`update sleep_for set seconds = ${seconds}`;
const sleepingQuery = (sql: postgres.Sql) => sql`select pg_sleep((select seconds from sleep_for)), 1 as n`;

/** Waits until the role runs the sleeping query (on whichever pool). */
const running = () =>
  waitFor(
    async () => {
      const [row] = await admin<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where usename = 'consumer' and state = 'active' and query like '%pg_sleep%'`;
      return row!.n > 0;
    },
    { what: 'the query to run' },
  );

const pool = (options: ConstructorParameters<typeof SwappablePool>[1] = {}) => {
  const made = new SwappablePool(url(), { max: 1, ...options });
  pools.push(made);
  return made;
};

beforeAll(async () => {
  server = await startSimPostgres();
  admin = postgres(server.url, { max: 1, onnotice: () => {} });
  password = randomBytes(12).toString('hex');
  await admin.unsafe(`create role consumer login password '${password}'`);
  await admin`create table sleep_for (seconds double precision not null)`;
  await admin`insert into sleep_for values (0)`;
  await admin`grant select on sleep_for to consumer`;
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close().catch(() => undefined)));
  await sleepFor(0);
});
afterAll(async () => {
  await admin?.end({ timeout: 5 });
  await server?.close();
});

describe('SwappablePool', () => {
  it('keeps a query going through rotations that cut each of its runs, until it runs on the newest pool', async () => {
    const consumer = pool();
    await sleepFor(60);
    const query = consumer.query(sleepingQuery);
    // Three rotations in a row, each cutting the run the query has on the pool of the one before.
    for (let i = 0; i < 3; i += 1) {
      await running();
      await rotate();
      if (i === 2) await sleepFor(0);
      await consumer.swap(url());
    }
    await expect(query).resolves.toMatchObject({ result: [{ n: 1 }], retried: true, generation: 3 });
  });

  it('moves a query stuck on the old pool (postgres.js reconnecting with the old password) to the new one', async () => {
    const consumer = pool();
    await sleepFor(60);
    const cut = consumer.query(sleepingQuery);
    await running();
    await rotate();
    await sleepFor(0);
    // Sent after the reset, to the pool on the old password: postgres.js retries its connection without end.
    const stuck = consumer.query((sql) => sql`select 2 as n`);
    await consumer.swap(url());
    await expect(cut).resolves.toMatchObject({ result: [{ n: 1 }], generation: 1 });
    await expect(stuck).resolves.toMatchObject({ result: [{ n: 2 }], retried: true, generation: 1 });
  });

  it('gives a cut query up after its deadline when no new URL comes, with the error that cut it', async () => {
    const consumer = pool({ resetDeadlineMs: 300, waitForNewPoolMs: 100 });
    await sleepFor(60);
    const query = consumer.query(sleepingQuery);
    await running();
    await rotate();
    // The session it ran on was ended; its rerun on the old password never gets a session.
    await expect(query).rejects.toMatchObject({ code: expect.stringMatching(/^(57P01|28P01|CONNECTION_CLOSED)$/) });
  });

  it('does not run again a query that failed for another reason', async () => {
    const consumer = pool();
    let runs = 0;
    const query = consumer.query((sql) => {
      runs += 1;
      return sql`select 1 / 0`;
    });
    await expect(query).rejects.toMatchObject({ code: '22012' });
    expect(runs).toBe(1);
  });
});
