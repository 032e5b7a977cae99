import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('startPostgresServer with password authentication', () => {
  it('refuses a wrong password over TCP (28P01) and keeps a cluster in a given directory across starts', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'hds-pg-kept-'));
    chmodSync(parent, 0o755); // the server runs as postgres when the tests run as root
    const dir = join(parent, 'cluster');
    let scram = await startPostgresServer({ auth: 'scram-sha-256', dir });
    try {
      expect(scram.auth).toBe('scram-sha-256');
      const password = new URL(scram.url).password;
      expect(password).toMatch(/^[0-9a-f]{48}$/);
      const wrong = new URL(scram.url);
      wrong.password = 'not-the-password';
      const refused = postgres(wrong.href, { max: 1, onnotice: () => {} });
      await expect(refused`select 1`).rejects.toMatchObject({ code: '28P01' });
      await refused.end();

      const sql = postgres(scram.url, { max: 1, onnotice: () => {} });
      await sql`create table kept (n int)`;
      await sql`insert into kept values (7)`;
      await sql.end();
      await scram.close();
      expect(await tcpProbe(scram.port)).toBe('ECONNREFUSED');

      // Started again from the same directory: same superuser password, same data, no second initdb.
      scram = await startPostgresServer({ auth: 'scram-sha-256', dir, port: scram.port });
      expect(new URL(scram.url).password).toBe(password);
      const again = postgres(scram.url, { max: 1, onnotice: () => {} });
      expect(await again`select n from kept`).toEqual([{ n: 7 }]);
      await again.end();
    } finally {
      await scram.close();
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
