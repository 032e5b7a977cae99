// heroku-sim with real databases: each app's Heroku Postgres is a database and a login role on a private cluster
// that checks passwords (scram-sha-256), as Heroku's do. The machine's own server trusts local connections, so the
// sim must refuse to run on it.
import {
  postgresClients,
  runSourceEntrypoint,
  SESSION_TERMINATED_CODES,
  startSimPostgres,
  testServices,
  uniqueName,
  type PostgresServer,
} from '@hds/testkit';
import { createLogger } from '@hds/core';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSimEnv } from '../env.js';
import { startHerokuSim } from '../sim.js';
import { standaloneOptions } from '../standalone.js';
import { SimStartupError } from '../support/startup-error.js';
import { pluck, startSim, type SimHarness } from '../test-support/sim-harness.js';

let server: PostgresServer;
beforeAll(async () => {
  server = await startSimPostgres();
});
afterAll(async () => {
  await server?.close();
});

const TERMINATED = SESSION_TERMINATED_CODES;
const clients = postgresClients();
const connect = (url: string) => clients.connect(url);
afterEach(() => clients.closeAll());

/** The roles and databases named `<prefix>_…` on the cluster. */
async function namesWithPrefix(prefix: string): Promise<{ roles: string[]; databases: string[] }> {
  const admin = connect(server.url);
  const like = `${prefix}\\_%`;
  const roles = await admin<{ name: string }[]>`select rolname as name from pg_roles where rolname like ${like}`;
  const databases = await admin<{ name: string }[]>`select datname as name from pg_database where datname like ${like}`;
  return { roles: roles.map((r) => r.name).sort(), databases: databases.map((d) => d.name).sort() };
}

describe('heroku-sim with real databases', () => {
  let h: SimHarness;
  let prefix: string;
  let accountId: string;
  let apiKey: string;

  beforeAll(async () => {
    prefix = uniqueName('simdb');
    h = await startSim({ postgres: { adminUrl: server.url, prefix } });
    ({ id: accountId, apiKey } = h.sim.createAccount({ email: 'owner@example.com' }));
  });
  afterAll(async () => {
    await h?.close();
  });

  const control = async (method: string, path: string, body?: unknown) => {
    const answer = await h.api(`/_sim${path}`, { method, ...(body !== undefined ? { body } : {}) });
    return answer;
  };
  const createApp = async (name: string, extra: Record<string, unknown> = {}) => {
    const answer = await control('POST', '/apps', { name, accountId, ...extra });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return answer.body as { id: string; name: string; databaseUrl: string };
  };

  it("gives each app a database of its own with a login role that is no superuser and cannot reach another app's", async () => {
    const one = await createApp('real-one');
    const two = await createApp('real-two');
    const url = new URL(one.databaseUrl);
    expect(url.hostname).toBe('127.0.0.1');
    expect(Number(url.port)).toBe(server.port);
    expect(url.username).toMatch(new RegExp(`^${prefix}_u[a-z0-9]{12}$`));
    expect(url.password).toMatch(/^p[0-9a-f]{64}$/);

    const sql = connect(one.databaseUrl);
    const [me] = await sql<{ user: string; database: string; superuser: boolean; createrole: boolean }[]>`
      select current_user as user, current_database() as database, rolsuper as superuser, rolcreaterole as createrole
        from pg_roles where rolname = current_user`;
    expect(me).toEqual({ user: url.username, database: url.pathname.slice(1), superuser: false, createrole: false });
    await sql`create table notes (id serial primary key, body text)`;
    await sql`insert into notes (body) values ('mine')`;

    // One app's role against the other app's database: CONNECT is revoked from PUBLIC.
    const intruder = new URL(one.databaseUrl);
    intruder.pathname = new URL(two.databaseUrl).pathname;
    await expect(connect(intruder.href)`select 1`).rejects.toMatchObject({ code: '42501' });
    expect(await connect(two.databaseUrl)`select count(*)::int as n from pg_tables where tablename = 'notes'`).toEqual([
      { n: 0 },
    ]);
  });

  it('rotates for real: the old URL is refused (28P01), an open session is ended, the new URL connects', async () => {
    const app = await createApp('real-rotate', { extraDatabases: ['BRONZE'] });
    await connect(app.databaseUrl)`create table kept (n int)`;
    await connect(app.databaseUrl)`insert into kept values (42)`;
    const session = connect(app.databaseUrl);
    const [{ pid }] = (await session<{ pid: number }[]>`select pg_backend_pid() as pid`) as unknown as [
      { pid: number },
    ];
    const sleeping = session`select pg_sleep(30)`.then(
      () => ({ code: 'finished' }),
      (err: { code?: string }) => ({ code: err.code }),
    );
    const admin = connect(server.url);
    await expect
      .poll(async () => (await admin`select 1 from pg_stat_activity where pid = ${pid} and state = 'active'`).length)
      .toBe(1);

    const rotated = await control('POST', '/apps/real-rotate/rotate-credentials', {});
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ version: 2 });
    const newUrl = rotated.body.databaseUrl as string;
    expect(new URL(newUrl).username).toBe(new URL(app.databaseUrl).username);
    expect(newUrl).not.toBe(app.databaseUrl);

    // The session opened before the rotation was ended by it (57P01, terminated by administrator command, which
    // postgres.js may report as the connection closing), before the rotation answered.
    expect(TERMINATED).toContain((await sleeping).code);
    expect(await admin`select 1 from pg_stat_activity where pid = ${pid}`).toHaveLength(0);
    await expect(connect(app.databaseUrl)`select 1`).rejects.toMatchObject({ code: '28P01' });
    expect(await connect(newUrl)`select n from kept`).toEqual([{ n: 42 }]);

    // The config var and the release say the same; the other database kept its password.
    const config = (await control('GET', '/apps/real-rotate/config-vars')).body as Record<string, string>;
    expect(config.DATABASE_URL).toBe(newUrl);
    expect(await connect(config.HEROKU_POSTGRESQL_BRONZE_URL!)`select 1 as ok`).toEqual([{ ok: 1 }]);
    const bronze = await control('POST', '/apps/real-rotate/rotate-credentials', {
      database: 'HEROKU_POSTGRESQL_BRONZE',
    });
    expect(bronze.body).toMatchObject({ version: 3 });
    await expect(connect(config.HEROKU_POSTGRESQL_BRONZE_URL!)`select 1`).rejects.toMatchObject({ code: '28P01' });
    expect(await connect(bronze.body.databaseUrl as string)`select 1 as ok`).toEqual([{ ok: 1 }]);
    expect(await connect(newUrl)`select 1 as ok`).toEqual([{ ok: 1 }]);
  });

  it('rotates several apps in one request and refuses an unknown app with 404', async () => {
    const apps = [await createApp('real-many-a'), await createApp('real-many-b')];
    const answer = await control('POST', '/rotate-credentials', { apps: apps.map((a) => a.name) });
    expect(answer.status).toBe(200);
    for (const [i, app] of apps.entries()) {
      const rotated = (answer.body as Array<{ app: string; databaseUrl: string }>)[i]!;
      expect(rotated.app).toBe(app.name);
      await expect(connect(app.databaseUrl)`select 1`).rejects.toMatchObject({ code: '28P01' });
      expect(await connect(rotated.databaseUrl)`select 1 as ok`).toEqual([{ ok: 1 }]);
    }
    const unknown = await control('POST', '/apps/no-such-app/rotate-credentials', {});
    expect(unknown).toMatchObject({ status: 404, body: { id: 'not_found' } });
    expect((await control('POST', '/apps/no-such-app/seed', { rows: 10 })).status).toBe(404);
  });

  it('rotates none of several apps when one of them is unknown: 404 naming the unknown ones', async () => {
    const first = await createApp('real-none-a');
    const last = await createApp('real-none-b');
    const answer = await control('POST', '/rotate-credentials', {
      apps: [first.name, 'no-such-app', last.name, 'nor-this-one'],
    });
    expect(answer).toMatchObject({ status: 404, body: { id: 'not_found' } });
    expect(answer.body.message).toContain('no-such-app, nor-this-one');
    for (const app of [first, last]) {
      // The role kept its password, the config var its URL, and no release was made.
      expect(await connect(app.databaseUrl)`select 1 as ok`).toEqual([{ ok: 1 }]);
      expect((await control('GET', `/apps/${app.name}/config-vars`)).body.DATABASE_URL).toBe(app.databaseUrl);
      expect(pluck((await h.api(`/apps/${app.name}/releases`, { token: apiKey })).body, 'version')).toEqual([1]);
    }
  });

  it('seeds a schema with keys, a sequence, an index, a view, an enum, jsonb, bytea and a mixed-case table', async () => {
    const app = await createApp('real-seed');
    const seeded = await control('POST', '/apps/real-seed/seed', { rows: 500 });
    expect(seeded.status, JSON.stringify(seeded.body)).toBe(200);
    const tables = seeded.body.tables as Array<{ name: string; rows: number }>;
    expect(tables.map((t) => t.name)).toEqual(['customers', 'products', 'orders', 'order_items', 'AuditEvents']);
    for (const table of tables) expect(table.rows).toBeGreaterThan(0);
    const total = tables.reduce((sum, t) => sum + t.rows, 0);
    expect(total).toBeGreaterThanOrEqual(450);
    expect(total).toBeLessThanOrEqual(550);

    const sql = connect(app.databaseUrl);
    const counts = await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from "AuditEvents"`);
    expect(counts[0]!.n).toBe(tables[4]!.rows);
    const foreignKeys = await sql<{ name: string }[]>`
      select conrelid::regclass::text as name from pg_constraint where contype = 'f' order by 1`;
    expect(foreignKeys.map((f) => f.name)).toEqual(['"AuditEvents"', 'order_items', 'order_items', 'orders']);
    expect(await sql`select 1 from pg_sequences where sequencename = 'customers_id_seq'`).toHaveLength(1);
    expect(await sql`select 1 from pg_indexes where indexname = 'orders_customer_id_placed_at_idx'`).toHaveLength(1);
    expect(await sql`select 1 from pg_type where typname = 'order_status' and typtype = 'e'`).toHaveLength(1);
    const columnTypes = await sql<{ table: string; column: string; type: string }[]>`
      select table_name as table, column_name as column, data_type as type from information_schema.columns
       where table_schema = 'public' and data_type in ('jsonb', 'bytea', 'USER-DEFINED') order by 1, 2`;
    expect(columnTypes).toEqual([
      { table: 'AuditEvents', column: 'payload', type: 'jsonb' },
      { table: 'orders', column: 'status', type: 'USER-DEFINED' },
      { table: 'products', column: 'attributes', type: 'jsonb' },
      { table: 'products', column: 'thumbnail', type: 'bytea' },
    ]);
    // Every row's references hold, and the view adds up the orders.
    const [view] = await sql<{ customers: number; orders: number }[]>`
      select count(*)::int as customers, sum(orders)::int as orders from customer_order_totals`;
    expect(view).toEqual({ customers: tables[0]!.rows, orders: tables[2]!.rows });
    // Everything belongs to the app's role, as on Heroku (the copy for the data migration runs as it).
    expect(await sql`select 1 from pg_tables where schemaname = 'public' and tableowner <> current_user`).toHaveLength(
      0,
    );

    // Seeding again adds rows to the same schema.
    const again = await control('POST', '/apps/real-seed/seed', { rows: 100 });
    expect((again.body.tables as Array<{ rows: number }>)[0]!.rows).toBeGreaterThan(tables[0]!.rows);
    expect((await control('POST', '/apps/real-seed/seed', { rows: 0 })).status).toBe(422);
  });

  it("drops an app's databases and roles with the app", async () => {
    const app = await createApp('real-delete', { extraDatabases: 1 });
    const before = await namesWithPrefix(prefix);
    expect(before.databases).toContain(new URL(app.databaseUrl).pathname.slice(1));
    expect((await control('DELETE', '/apps/real-delete')).status).toBe(204);
    const after = await namesWithPrefix(prefix);
    expect(before.databases.length - after.databases.length).toBe(2);
    expect(before.roles.length - after.roles.length).toBe(2);
    expect(after.roles).not.toContain(new URL(app.databaseUrl).username);
    await expect(connect(app.databaseUrl)`select 1`).rejects.toMatchObject({ code: '28P01' });
  });

  it('makes no database for an app it refuses, and the synchronous controls say to await', async () => {
    const before = await namesWithPrefix(prefix);
    expect((await control('POST', '/apps', { name: 'Not A Name', accountId })).status).toBe(422);
    expect((await control('POST', '/apps', { name: 'real-one', accountId })).status).toBe(422);
    expect(await namesWithPrefix(prefix)).toEqual(before);
    expect(() => h.sim.createApp({ name: 'sync-app', accountId })).toThrow(/createAppAsync/);
    expect(() => h.sim.rotateCredentials({ app: 'real-one' })).toThrow(/rotateCredentialsAsync/);
  });
});

describe('heroku-sim with real databases, at start-up', () => {
  it('refuses a server that does not check passwords (the machine trusts local connections)', async () => {
    const started = startHerokuSim({ postgres: { adminUrl: testServices.pgAdminUrl, prefix: uniqueName('trust') } });
    await expect(started).rejects.toBeInstanceOf(SimStartupError);
    await expect(started).rejects.toThrow(/SIM_POSTGRES_URL: .*accepted a wrong password.*trust/);
  });

  it('exits 1 naming SIM_POSTGRES_URL when the server refuses the connection or the password, or trusts every password', async () => {
    const closed = new URL(server.url);
    closed.port = '1';
    const refused = await runSourceEntrypoint('apps/heroku-sim/src/main.ts', {
      PORT: '0',
      SIM_POSTGRES_URL: closed.href,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /SIM_POSTGRES_URL: cannot connect to the Postgres server at 127\.0\.0\.1:1 .*ECONNREFUSED/,
    );
    expect(refused.stderr).not.toContain(new URL(server.url).password);

    const wrongPassword = new URL(server.url);
    wrongPassword.password = 'not-the-admin-password';
    const denied = await runSourceEntrypoint('apps/heroku-sim/src/main.ts', {
      PORT: '0',
      SIM_POSTGRES_URL: wrongPassword.href,
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(
      /SIM_POSTGRES_URL: cannot connect to the Postgres server at .*password authentication/,
    );
    expect(denied.stderr).not.toContain('not-the-admin-password');

    const trusting = await runSourceEntrypoint('apps/heroku-sim/src/main.ts', {
      PORT: '0',
      SIM_POSTGRES_URL: testServices.pgAdminUrl,
      SIM_POSTGRES_PREFIX: uniqueName('trust'),
    });
    expect(trusting.code).toBe(1);
    expect(trusting.stderr).toMatch(/SIM_POSTGRES_URL: the Postgres server at .* accepted a wrong password/);
  });

  it('names SIM_POSTGRES_HOST and SIM_POSTGRES_PORT in the apps’ URLs, also after a rotation (postgres:5432 in Compose)', async () => {
    const env = loadSimEnv({
      SIM_POSTGRES_URL: server.url,
      SIM_POSTGRES_HOST: 'postgres',
      SIM_POSTGRES_PORT: '5432',
      SIM_POSTGRES_PREFIX: uniqueName('named'),
    });
    expect(new URL(server.url).port).not.toBe('5432'); // the admin URL names another host and port
    const h = await startSim(standaloneOptions(env, createLogger({ app: 'test', level: 'silent' })));
    try {
      const account = h.sim.createAccount({ email: 'named@example.com' });
      const app = await h.sim.createAppAsync({ name: 'named-app', accountId: account.id, extraDatabases: 1 });
      const rotated = await h.sim.rotateCredentialsAsync({ app: 'named-app' });
      const config = (await h.api('/apps/named-app/config-vars', { token: account.apiKey })).body as Record<
        string,
        string
      >;
      expect(Object.keys(config)).toHaveLength(2);
      for (const url of [app.databaseUrl, rotated.databaseUrl, ...Object.values(config)]) {
        expect(new URL(url).host).toBe('postgres:5432');
      }
      expect(config.DATABASE_URL).toBe(rotated.databaseUrl);
      // The same credentials on the server's own address: a real role with the rotated password.
      const reachable = new URL(rotated.databaseUrl);
      reachable.host = new URL(server.url).host;
      expect(await connect(reachable.href)`select current_user as user`).toEqual([{ user: reachable.username }]);
      await h.sim.resetAsync();
    } finally {
      await h.close();
    }
  });

  it('works with a role that has CREATEDB and CREATEROLE but is no superuser', async () => {
    const admin = postgres(server.url, { max: 1, onnotice: () => {} });
    const role = uniqueName('simadmin');
    await admin.unsafe(`create role "${role}" login createdb createrole password 'admin-password-1'`);
    const adminUrl = new URL(server.url);
    adminUrl.username = role;
    adminUrl.password = 'admin-password-1';
    const prefix = uniqueName('nosuper');
    const h = await startSim({ postgres: { adminUrl: adminUrl.href, prefix } });
    try {
      const account = h.sim.createAccount({ email: 'limited@example.com' });
      const app = await h.sim.createAppAsync({ name: 'limited-app', accountId: account.id });
      const session = postgres(app.databaseUrl, { max: 1, onnotice: () => {} });
      const sleeping = session`select pg_sleep(30)`.catch((err: { code?: string }) => err.code);
      await expect
        .poll(
          async () =>
            (await admin`select 1 from pg_stat_activity where usename = ${new URL(app.databaseUrl).username}`).length,
        )
        .toBe(1);
      const rotated = await h.sim.rotateCredentialsAsync({ app: 'limited-app' });
      expect(TERMINATED).toContain(await sleeping);
      await session.end({ timeout: 1 }); // postgres.js waits forever to end a connection the server ended
      const fresh = postgres(rotated.databaseUrl, { max: 1, onnotice: () => {} });
      expect(await fresh`select 1 as ok`).toEqual([{ ok: 1 }]);
      await fresh.end();
      await h.sim.deleteAppAsync({ app: 'limited-app' });
      expect(await admin`select 1 from pg_database where datname like ${`${prefix}\\_%`}`).toHaveLength(0);
    } finally {
      await h.close();
      await admin.unsafe(`drop role if exists "${role}"`);
      await admin.end();
    }
  });

  it('makes the server agree with the kept state when it starts again: passwords set again, lost databases made again', async () => {
    const stateName = uniqueName('hds_simstate');
    const stateUrl = new URL(testServices.pgAdminUrl);
    stateUrl.pathname = `/${stateName}`;
    const options = { postgres: { adminUrl: server.url, prefix: uniqueName('kept') }, stateUrl: stateUrl.href };
    const first = await startSim(options);
    try {
      const account = first.sim.createAccount({ email: 'kept@example.com' });
      const changed = await first.sim.createAppAsync({ name: 'kept-changed', accountId: account.id });
      const lost = await first.sim.createAppAsync({ name: 'kept-lost', accountId: account.id });
      await first.close();

      // Behind the sim's back: a password set but never stored (a sim killed mid-rotation), a database and role gone.
      const admin = connect(server.url);
      await admin.unsafe(`alter role "${new URL(changed.databaseUrl).username}" password 'not-the-kept-one'`);
      await admin.unsafe(`drop database "${new URL(lost.databaseUrl).pathname.slice(1)}" with (force)`);
      await admin.unsafe(`drop role "${new URL(lost.databaseUrl).username}"`);
      await expect(connect(changed.databaseUrl)`select 1`).rejects.toMatchObject({ code: '28P01' });

      const second = await startSim(options);
      try {
        expect(await connect(changed.databaseUrl)`select 1 as ok`).toEqual([{ ok: 1 }]);
        expect(
          await connect(lost.databaseUrl)`select count(*)::int as tables from pg_tables where schemaname = 'public'`,
        ).toEqual([{ tables: 0 }]);
        await second.sim.resetAsync();
      } finally {
        await second.close();
      }
    } finally {
      const dropper = connect(testServices.pgAdminUrl);
      await dropper.unsafe(`drop database if exists "${stateName}" with (force)`);
    }
  });

  it('exits naming SIM_STATE_URL when the state database cannot be reached', async () => {
    const closed = new URL(testServices.pgAdminUrl);
    closed.port = '1';
    closed.pathname = '/heroku_sim';
    await expect(startHerokuSim({ stateUrl: closed.href })).rejects.toThrow(
      /^SIM_STATE_URL: cannot reach the Postgres database at 127\.0\.0\.1:1\/heroku_sim/,
    );
  });

  it('drops the databases a sim that kept no state left behind, and keeps those of another prefix', async () => {
    const prefix = uniqueName('left');
    const other = uniqueName('other');
    const first = await startSim({ postgres: { adminUrl: server.url, prefix } });
    const neighbour = await startSim({ postgres: { adminUrl: server.url, prefix: other } });
    try {
      const account = first.sim.createAccount({ email: 'a@example.com' });
      await first.sim.createAppAsync({ name: 'left-behind', accountId: account.id });
      const kept = await neighbour.sim.createAppAsync({
        name: 'neighbour',
        accountId: neighbour.sim.createAccount({ email: 'b@example.com' }).id,
      });
      await first.close();
      expect((await namesWithPrefix(prefix)).databases).toHaveLength(1);

      // The same prefix again, state in memory: what the first left is nobody's now.
      const second = await startSim({ postgres: { adminUrl: server.url, prefix } });
      await second.close();
      expect(await namesWithPrefix(prefix)).toEqual({ roles: [], databases: [] });
      expect(await connect(kept.databaseUrl)`select 1 as ok`).toEqual([{ ok: 1 }]);
    } finally {
      await neighbour.sim.resetAsync();
      await neighbour.close();
    }
    expect(await namesWithPrefix(other)).toEqual({ roles: [], databases: [] });
  });
});
