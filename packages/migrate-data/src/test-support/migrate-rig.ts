import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, Keyring, type Logger } from '@hds/core';
import { startHerokuSim, type HerokuSim, type SimServer } from '@hds/heroku-sim';
import { SyncService } from '@hds/sync';
import {
  createTestDatabase,
  startSimPostgres,
  testEncryptionKeys,
  testWebhookSigningKeys,
  uniqueName,
  type PostgresServer,
  type TestDatabase,
} from '@hds/testkit';
import postgres from 'postgres';
import { dumpSchema, withoutMetaCommands } from '../pg-dump.js';
import { MigrationService } from '../service.js';
import { targetAddressCheck } from '../target-address.js';
import { parseOutboundPolicy } from '@hds/destinations';
import type { RunSettings } from '../run-migration.js';

/** What the seed schema lacks and a migration must carry: a materialized view, a trigger that rewrites rows, partitions, a free sequence. */
const EXTRA_SOURCE_SQL = `
create materialized view order_counts as select status, count(*) as n from orders group by status;
create function stamp_note() returns trigger language plpgsql as $$
begin new.note := 'rewritten by the trigger'; return new; end $$;
create trigger orders_stamp before insert or update on orders for each row execute function stamp_note();
create table "Events" (id bigserial, at date not null, kind text, primary key (id, at)) partition by range (at);
create table "Events_2025" partition of "Events" for values from ('2025-01-01') to ('2026-01-01');
create table "Events_2026" partition of "Events" for values from ('2026-01-01') to ('2027-01-01');
insert into "Events" (at, kind) select date '2025-06-01' + (g % 400), 'kind ' || g from generate_series(1, 500) g;
create sequence invoice_numbers start 1000;
select nextval('invoice_numbers') from generate_series(1, 3);
`;

/** A `PATCH /apps/{app}` that reached the sim: the app (its id or name, as called) and the maintenance asked for. */
export interface MaintenancePatch {
  app: string;
  maintenance: unknown;
}

export interface MigrateRig {
  cluster: PostgresServer;
  sim: HerokuSim;
  simServer: SimServer;
  /** Every `PATCH /apps/{app}` the sim answered, in order, with its body. */
  maintenancePatches: MaintenancePatch[];
  database: TestDatabase;
  sync: SyncService;
  migrations: MigrationService;
  /** A project synced with a seeded Heroku app (its database with the extra objects too). */
  project(options: { rows: number; mappings?: Record<string, string>; config?: Record<string, string> }): Promise<{
    projectId: string;
    app: string;
    appId: string;
    sourceUrl: string;
    linkId: string;
  }>;
  /** A superuser client of the database `url` names (for locks and checks the app's role may not make). */
  superuser(url: string): postgres.Sql;
  /** An empty database on the cluster, as its superuser. */
  targetDatabase(): Promise<string>;
  /** A client closed by `close()`. */
  connect(url: string): postgres.Sql;
  schema(url: string): Promise<string>;
  close(): Promise<void>;
}

export async function startMigrateRig(
  settings: Partial<RunSettings> = {},
  options: { logger?: Logger } = {},
): Promise<MigrateRig> {
  const cluster = await startSimPostgres();
  const prefix = uniqueName('mig');
  const sim = await startHerokuSim({ retryScheduleMs: [], postgres: { adminUrl: cluster.url, prefix } });
  // The sim behind a front that records each PATCH /apps/{app} body (the sim's own request log has no bodies).
  const maintenancePatches: MaintenancePatch[] = [];
  const simServer = await listenRecording(sim, maintenancePatches);
  const database = await createTestDatabase();
  const sync = new SyncService({
    db: database.client.db,
    keyring: Keyring.fromSpecs(testEncryptionKeys),
    logger: options.logger ?? createLogger({ app: 'test', level: 'silent' }),
    heroku: { apiUrl: simServer.url, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 }, timeoutMs: 5000 },
    webhooks: { publicBaseUrl: 'http://127.0.0.1:9', signingKeys: testWebhookSigningKeys },
  });
  const migrations = new MigrationService({
    sync,
    settings: {
      progressIntervalMs: 20,
      cancelPollMs: 20,
      checkTarget: targetAddressCheck({ policy: parseOutboundPolicy({ allowPrivate: true }) }),
      ...settings,
    },
  });
  const clients: postgres.Sql[] = [];
  const connect = (url: string) => {
    const sql = postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 5 });
    clients.push(sql);
    return sql;
  };
  const admin = connect(cluster.url);
  const targets: string[] = [];
  return {
    cluster,
    sim,
    simServer,
    maintenancePatches,
    database,
    sync,
    migrations,
    connect,
    async project(options) {
      const owner = sim.createAccount({ email: `owner-${randomUUID().slice(0, 8)}@example.com` });
      const app = await sim.createAppAsync({ name: `app-${randomUUID().slice(0, 12)}`, accountId: owner.id });
      await sim.seed({ app: app.name, rows: options.rows });
      if (options.config) sim.setConfigVars({ app: app.name, vars: options.config });
      // Its own client, ended at once: a rotation later terminates the role's sessions.
      const source = postgres(app.databaseUrl, { max: 1, onnotice: () => {} });
      try {
        await source.unsafe(EXTRA_SOURCE_SQL).simple();
        await source`analyze`;
      } finally {
        await source.end({ timeout: 1 });
      }
      const { account } = await sync.addAccount({ apiKey: owner.apiKey });
      const project = await sync.createProject({
        name: `p-${app.name}`,
        heroku: { accountId: account.id, app: app.name, mappings: options.mappings },
      });
      return {
        projectId: project.id,
        app: app.name,
        appId: app.id,
        sourceUrl: app.databaseUrl,
        linkId: project.sync.linkId!,
      };
    },
    superuser(url) {
      const su = new URL(cluster.url);
      su.pathname = new URL(url).pathname;
      return connect(su.href);
    },
    async targetDatabase() {
      const name = `${prefix}_target_${targets.length}`;
      await admin.unsafe(`create database "${name}"`);
      targets.push(name);
      const url = new URL(cluster.url);
      url.pathname = `/${name}`;
      return url.href;
    },
    async schema(url) {
      return withoutMetaCommands(await dumpSchema({ url }));
    },
    async close() {
      await Promise.all(clients.splice(0).map((sql) => sql.end({ timeout: 1 })));
      await simServer.close();
      await sim.close();
      await database.drop();
      await cluster.close();
    },
  };
}

/**
 * Serves the sim's handler through a front that reads the body of each `PATCH /apps/{app}`, records it and hands
 * it on parsed (the sim's JSON parser leaves a request whose body was read alone).
 */
async function listenRecording(sim: HerokuSim, patches: MaintenancePatch[]): Promise<SimServer> {
  const server = createServer((req, res) => {
    const match = req.method === 'PATCH' ? /^\/apps\/([^/?]+)(?:\?|$)/.exec(req.url ?? '') : null;
    if (!match) {
      sim.handler(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      patches.push({
        app: decodeURIComponent(match[1]!),
        maintenance: (body as { maintenance?: unknown } | undefined)?.maintenance,
      });
      Object.assign(req, { body });
      sim.handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
