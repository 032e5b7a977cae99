import { createLogger, Keyring, listen, type RunningServer } from '@hds/core';
import { createHerokuSim, type HerokuSim, type SimServer } from '@hds/heroku-sim';
import { createRedis, JobProducer } from '@hds/queue';
import { SyncService } from '@hds/sync';
import {
  createTestDatabase,
  createTestRedis,
  testEncryptionKeys,
  testServices,
  testWebhookSigningKeys,
  type TestDatabase,
  type TestRedis,
} from '@hds/testkit';
import postgres from 'postgres';
import { Registry } from 'prom-client';
// The ingress and the worker runtime are apps, not packages: the pipeline test takes them from their sources.
import { createIngressApp } from '../../../ingress/src/app.js';
import { createWorkerMetrics } from '../../../worker/src/metrics.js';
import { startWorkerRuntime, type WorkerRuntime } from '../../../worker/src/runtime.js';
import { startAdmin, type AdminHarness } from './harness.js';

export const OAUTH_CLIENT = { id: 'pipeline-client', secret: 'pipeline-client-secret' };

export interface Pipeline {
  sim: HerokuSim;
  simServer: SimServer;
  ingress: RunningServer;
  admin: AdminHarness;
  database: TestDatabase;
  /** Resolves when a commit changed an env var of `projectId` (Postgres NOTIFY from the worker's commit). */
  nextEnvChange(projectId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The whole service in-process, on one test database and one Redis prefix: heroku-sim delivering signed
 * webhooks to the ingress app, the worker runtime consuming the queues, and the admin.
 */
export async function startPipeline(): Promise<Pipeline> {
  const logger = createLogger({ app: 'pipeline-test', level: 'silent' });
  const database = await createTestDatabase({ poolSize: 10 });
  const testRedis: TestRedis = await createTestRedis();
  const sim = createHerokuSim({ oauthClients: [OAUTH_CLIENT], retryScheduleMs: [100, 500, 1000] });
  const simServer = await sim.listen();

  const ingressRedis = createRedis(testServices.redisUrl, { role: 'producer', name: 'hds-ingress-test' });
  const ingressProducer = new JobProducer({ connection: ingressRedis, prefix: testRedis.prefix });
  const ingress = await listen(
    createIngressApp({
      producer: ingressProducer,
      signingKeys: testWebhookSigningKeys,
      logger,
      registry: new Registry(),
      readinessChecks: {},
    }),
    { port: 0, host: '127.0.0.1' },
  );

  const heroku = {
    apiUrl: simServer.url,
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 50 },
    timeoutMs: 5000,
    oauth: { oauthUrl: simServer.url, clientId: OAUTH_CLIENT.id, clientSecret: OAUTH_CLIENT.secret },
  };
  const webhooks = { publicBaseUrl: ingress.url, signingKeys: testWebhookSigningKeys };

  const workerRedis = createRedis(testServices.redisUrl, { role: 'worker', name: 'hds-worker-test' });
  let runtime: WorkerRuntime | undefined;
  const admin = await startAdmin({
    database,
    testRedis,
    herokuApiUrl: simServer.url,
    oauth: {
      clientId: OAUTH_CLIENT.id,
      clientSecret: OAUTH_CLIENT.secret,
      oauthUrl: simServer.url,
      browserUrl: simServer.url,
    },
    sync: { webhooks },
  });
  runtime = await startWorkerRuntime({
    sync: new SyncService({
      db: database.client.db,
      keyring: Keyring.fromSpecs(testEncryptionKeys),
      logger,
      heroku,
      webhooks,
      options: { reconcileMinIntervalMs: 60_000 },
    }),
    redis: workerRedis,
    prefix: testRedis.prefix,
    logger,
    metrics: createWorkerMetrics(new Registry()),
    concurrency: 4,
    reconcileTickMs: 60_000,
  });

  const listener = postgres(database.url, { max: 1, onnotice: () => {} });
  const waiters = new Map<string, (() => void)[]>();
  await listener.listen('project_env_changed', (projectId) => {
    for (const resolve of waiters.get(projectId) ?? []) resolve();
    waiters.delete(projectId);
  });

  return {
    sim,
    simServer,
    ingress,
    admin,
    database,
    nextEnvChange: (projectId) =>
      new Promise<void>((resolve) => {
        waiters.set(projectId, [...(waiters.get(projectId) ?? []), resolve]);
      }),
    close: async () => {
      await listener.end();
      await sim.close();
      await runtime?.close();
      runtime = undefined;
      await ingress.close(1000);
      await ingressProducer.close();
      ingressRedis.disconnect();
      workerRedis.disconnect();
      await admin.close();
      await testRedis.cleanup();
      await database.drop();
    },
  };
}
