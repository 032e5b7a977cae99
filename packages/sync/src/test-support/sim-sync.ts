import { randomUUID } from 'node:crypto';
import { createHerokuSim, type HerokuSim, type SimServer } from '@hds/heroku-sim';
import { createTestDatabase, RequestGate, type TestDatabase } from '@hds/testkit';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { SyncService } from '../service.js';
import { testService } from './fixtures.js';

export interface SimSync {
  sim: HerokuSim;
  simServer: SimServer;
  /** Holds the service's Heroku requests a test names (see RequestGate). */
  gate: RequestGate;
  service: SyncService;
  /** A sim account with `apps.length` apps (each with Heroku Postgres), added to the service by API key. */
  account(appCount: number): Promise<{
    accountId: string;
    simAccountId: string;
    apiKey: string;
    apps: { id: string; name: string; databaseUrl: string }[];
  }>;
  /** The project's env var in clear. */
  envValue(projectId: string, name?: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * A SyncService on `database` talking to an in-process heroku-sim through a RequestGate. Webhooks point at a
 * closed port (the sim's deliveries fail at once and are not retried): the tests drive release events themselves.
 */
export async function startSimSync(database: TestDatabase): Promise<SimSync> {
  const sim = createHerokuSim({ retryScheduleMs: [] });
  const simServer = await sim.listen();
  const gate = new RequestGate();
  const service = testService(database.client.db, {
    heroku: {
      apiUrl: simServer.url,
      dispatcher: gate,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      timeoutMs: 5000,
    },
    webhooks: { publicBaseUrl: 'http://127.0.0.1:9', signingKeys: ['test-signing-key-for-sim-sync'] },
  });
  return {
    sim,
    simServer,
    gate,
    service,
    async account(appCount) {
      const simAccount = sim.createAccount({ email: `owner-${randomUUID().slice(0, 8)}@example.com` });
      const apps = Array.from({ length: appCount }, () =>
        sim.createApp({ name: `app-${randomUUID().slice(0, 12)}`, accountId: simAccount.id }),
      );
      const { account } = await service.addAccount({ apiKey: simAccount.apiKey });
      return { accountId: account.id, simAccountId: simAccount.id, apiKey: simAccount.apiKey, apps };
    },
    async envValue(projectId, name = 'HASURA_GRAPHQL_DATABASE_URL') {
      return (await service.listEnvVars(projectId, true)).find((v) => v.name === name)?.value;
    },
    async close() {
      gate.releaseAll();
      await sim.close();
      await gate.close();
    },
  };
}

/** A `release-event` job as the ingress makes it. */
export function releaseJob(options: { linkId: string; appId: string; version: number; status?: string }) {
  return {
    eventId: randomUUID(),
    linkId: options.linkId,
    appId: options.appId,
    version: options.version,
    status: options.status ?? 'succeeded',
    action: 'update',
    receivedAt: Date.now(),
  };
}

/**
 * A test file's database (one for the file) and a fresh `SimSync` on it for each test, opened and closed by
 * vitest's hooks: read them inside tests (`t.env`, `t.database`).
 */
export function useSimSync(): { readonly env: SimSync; readonly database: TestDatabase } {
  let database: TestDatabase | undefined;
  let env: SimSync | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());
  beforeEach(async () => {
    env = await startSimSync(database!);
  });
  afterEach(() => env?.close());
  return {
    get env() {
      if (!env) throw new Error('useSimSync: read env inside a test');
      return env;
    },
    get database() {
      if (!database) throw new Error('useSimSync: read database inside a test');
      return database;
    },
  };
}
