import postgres from 'postgres';
import { tcpProbe } from './tcp-probe.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type PostgresServer } from './postgres-server.js';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgresServer();
});
afterAll(async () => {
  await server?.close();
});

describe('startPostgresServer', () => {
  it('runs a private cluster on a free port, as the superuser postgres with trust auth', async () => {
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    expect(server.port).not.toBe(5432);
    const sql = postgres(server.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ port: string; superuser: boolean }[]>`
        select current_setting('port') as port, (select rolsuper from pg_roles where rolname = current_user) as superuser`;
      expect(row).toEqual({ port: String(server.port), superuser: true });
    } finally {
      await sql.end();
    }
  });

  it('restarts (fast) on the same port and data: committed rows stay, an open transaction is rolled back', async () => {
    const sql = postgres(server.url, { max: 1, onnotice: () => {} });
    // A session of its own that leaves a transaction open across the restart. (Not `sql.begin`: postgres.js 3.4.9
    // crashes the process when a transaction's connection closes under it, porsager/postgres#1208.)
    const open = postgres(server.url, { max: 1, onnotice: () => {} });
    try {
      await sql`create table kept (n int)`;
      await sql`insert into kept values (1)`;
      await open.unsafe('begin');
      await open`insert into kept values (2)`;
      const [before] = await sql<{ sessions: number }[]>`
        select count(*)::int as sessions from pg_stat_activity where state = 'idle in transaction'`;
      expect(before).toEqual({ sessions: 1 });

      await server.restart({ mode: 'fast' });
      expect(server.running).toBe(true);
      expect(await sql`select n from kept order by n`).toEqual([{ n: 1 }]);
    } finally {
      await Promise.all([sql.end(), open.end()]);
    }
  });

  it('refuses connections while stopped, and accepts them once started again', async () => {
    await server.stop();
    expect(server.running).toBe(false);
    expect(await tcpProbe(server.port)).toBe('ECONNREFUSED');
    await server.start();
    expect(await tcpProbe(server.port)).toBe('connected');
    expect(server.log()).toContain('database system is ready to accept connections');
  });
});
