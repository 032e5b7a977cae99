// The whole stack with heroku-sim as `npm start` runs it: each app's Heroku Postgres is a real database on a cluster
// that checks passwords, and the sim keeps its state in Postgres. What the service syncs must connect; what it
// replaced must not; and a restart of "Heroku" must not lose anything.
import { postgresClients, SESSION_TERMINATED_CODES, type Stack } from '@hds/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { appName, eventually, useStack } from './support/use-stack.js';

// No scheduled reconcile: every change must come through a webhook.
const stack = useStack({ realDatabases: true, workerEnv: { RECONCILE_TICK_MS: '3600000' } });

const HASURA = 'HASURA_GRAPHQL_DATABASE_URL';
const TERMINATED = SESSION_TERMINATED_CODES;
const clients = postgresClients();
const connect = (url: string) => clients.connect(url);
afterEach(() => clients.closeAll());

const customers = async (url: string) =>
  (await connect(url)<{ n: number }[]>`select count(*)::int as n from customers`)[0]?.n;

/** An account on the sim with a seeded app, added to the service, and a project synced with the app. */
async function syncedProject(s: Stack, name: string) {
  const simAccount = await s.sim.createAccount({ email: `${name}@example.com` });
  const app = await s.sim.createApp({ name: appName(name), accountId: simAccount.id });
  const seeded = await s.sim.seed(app.name, { rows: 300 });
  const account = await s.admin.addAccount(simAccount.apiKey);
  const project = await s.admin.createProject({ name, heroku: { accountId: account.id, app: app.name } });
  expect(project.sync).toMatchObject({ state: 'active', lastReleaseVersion: 1 });
  return { simAccount, app, project, seededCustomers: seeded.tables.find((t) => t.name === 'customers')!.rows };
}

async function waitForValue(s: Stack, projectId: string, url: string): Promise<void> {
  await eventually(`${HASURA} of project ${projectId} to be the new URL`, async () => {
    return (await s.admin.envValue(projectId, HASURA)) === url;
  });
}

describe('heroku-sim with real databases behind the whole stack', () => {
  it('the synced URL connects and reads the seeded rows; after a rotation the old one is refused (28P01) and its open session ended', async () => {
    const s = stack();
    const { app, project, seededCustomers } = await syncedProject(s, 'realdb');
    const synced = (await s.admin.envValue(project.id, HASURA))!;
    expect(synced).toBe(app.databaseUrl);
    expect(new URL(synced).port).toBe(String(s.simDatabases!.server.port));
    expect(await customers(synced)).toBe(seededCustomers);

    // A consumer connected with the synced URL, busy when the credentials rotate.
    const consumer = connect(synced);
    const busy = consumer`select pg_sleep(30)`.then(
      () => 'finished',
      (err: { code?: string }) => err.code,
    );
    const admin = connect(s.simDatabases!.adminUrl);
    const role = new URL(synced).username;
    await eventually('the consumer to be running its query', async () => {
      const rows = await admin`select 1 from pg_stat_activity where usename = ${role} and state = 'active'`;
      return rows.length === 1;
    });

    for (const round of [1, 2]) {
      const previous = (await s.admin.envValue(project.id, HASURA))!;
      const rotation = await s.sim.rotateCredentials(app.name);
      expect(rotation.version).toBe(1 + round);
      await waitForValue(s, project.id, rotation.databaseUrl);
      const revealed = (await s.admin.envValue(project.id, HASURA))!;
      expect(await customers(revealed)).toBe(seededCustomers);
      await expect(connect(previous)`select 1`).rejects.toMatchObject({ code: '28P01' });
    }
    expect(TERMINATED).toContain(await busy);
    expect(await s.admin.syncStatus(project.id)).toMatchObject({ state: 'active', lastReleaseVersion: 3 });
  });

  it("one app's URL cannot reach another app's database", async () => {
    const s = stack();
    const owner = await s.sim.createAccount({ email: 'two-apps@example.com' });
    const [a, b] = await Promise.all([
      s.sim.createApp({ name: appName('first'), accountId: owner.id }),
      s.sim.createApp({ name: appName('second'), accountId: owner.id }),
    ]);
    const crossed = new URL(a.databaseUrl);
    crossed.pathname = new URL(b.databaseUrl).pathname;
    await expect(connect(crossed.href)`select 1`).rejects.toMatchObject({ code: '42501' });
    expect(await connect(b.databaseUrl)`select current_user as me`).toEqual([{ me: new URL(b.databaseUrl).username }]);
  });

  it('a restart of heroku-sim keeps account and app ids, releases, config vars and webhooks; a rotation after it reaches the project', async () => {
    const s = stack();
    const { simAccount, app, project, seededCustomers } = await syncedProject(s, 'restart');
    await s.sim.rotateCredentials(app.name);
    await waitForValue(s, project.id, (await s.sim.configVars(app.name)).DATABASE_URL!);
    const platform = async (path: string) => {
      const answer = await fetch(`${s.simUrl}${path}`, {
        headers: { authorization: `Bearer ${simAccount.apiKey}`, accept: 'application/vnd.heroku+json; version=3' },
      });
      expect(answer.status, path).toBeLessThan(300);
      return answer.json();
    };
    const observe = async () => ({
      accounts: await s.sim.accounts(),
      apps: await s.sim.apps(),
      app: await platform(`/apps/${app.name}`),
      releases: await platform(`/apps/${app.name}/releases`),
      config: await s.sim.configVars(app.name),
      webhooks: await s.sim.webhooks(app.name),
    });
    const before = await observe();
    expect(before.webhooks).toHaveLength(1);

    await s.restart('heroku-sim');
    expect(await observe()).toEqual(before);
    const ready = await fetch(`${s.simUrl}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { state: 'ok', databases: 'ok' } });

    const rotation = await s.sim.rotateCredentials(app.name);
    expect(rotation.version).toBe(3);
    await waitForValue(s, project.id, rotation.databaseUrl);
    expect(await s.admin.syncStatus(project.id)).toMatchObject({ state: 'active', lastReleaseVersion: 3 });
    expect(await customers(rotation.databaseUrl)).toBe(seededCustomers);
    await expect(connect(before.config.DATABASE_URL!)`select 1`).rejects.toMatchObject({ code: '28P01' });
  });
});
