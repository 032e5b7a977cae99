import { randomUUID } from 'node:crypto';
import { createLogger, createMetricsRegistry, Keyring, listen, type RunningServer } from '@hds/core';
import { createHerokuSim, type HerokuSim, type SimServer } from '@hds/heroku-sim';
import { createIngressApp } from '@hds/ingress';
import { createRedis, JobProducer, queueNames, type JobData, type JobName } from '@hds/queue';
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
import { createWorkerMetrics, startWorkerRuntime, type WorkerRuntime } from '@hds/worker';
import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * The ingress's producer with a shorter retry policy for release events than the catalog's (12 attempts over
 * about an hour), so a test can outlast every attempt of a job in seconds.
 */
class ShortRetryProducer extends JobProducer {
  constructor(
    options: { connection: Redis; prefix: string },
    private readonly releaseEventRetry: Pick<JobsOptions, 'attempts' | 'backoff'>,
  ) {
    super(options);
  }

  override add<N extends JobName>(name: N, data: JobData<N>, options: JobsOptions = {}): Promise<string | undefined> {
    return super.add(name, data, name === 'release-event' ? { ...options, ...this.releaseEventRetry } : options);
  }
}

export interface OutagePipelineOptions {
  /** Attempts and backoff of release-event jobs. */
  releaseEventRetry: Pick<JobsOptions, 'attempts' | 'backoff'>;
  /** The worker's reconcile tick. */
  reconcileTickMs: number;
  /** `RECONCILE_MIN_INTERVAL_MS`. */
  reconcileMinIntervalMs: number;
}

/**
 * The pipeline in one process (heroku-sim → ingress → BullMQ → worker runtime → Postgres) on a fresh database and
 * Redis prefix, for a test that takes Heroku's API down and brings it back: the sim's HTTP server closes and
 * listens again on the same port while its state (accounts, apps, releases, webhooks) lives on.
 */
export class OutagePipeline {
  private constructor(
    readonly sim: HerokuSim,
    private simServer: SimServer | undefined,
    readonly simPort: number,
    readonly sync: SyncService,
    readonly events: Queue,
    private readonly parts: {
      database: TestDatabase;
      redis: TestRedis;
      ingress: RunningServer;
      producer: JobProducer;
      producerRedis: Redis;
      workerRedis: Redis;
      worker: WorkerRuntime;
    },
  ) {}

  static async start(options: OutagePipelineOptions): Promise<OutagePipeline> {
    const logger = createLogger({ app: 'outage-test', level: 'silent' });
    const database = await createTestDatabase({ poolSize: 10 });
    const redis = await createTestRedis();
    const sim = createHerokuSim({ retryScheduleMs: [50, 100] });
    const simServer = await sim.listen();
    const producerRedis = createRedis(testServices.redisUrl, { role: 'producer', name: 'hds-ingress-outage' });
    const producer = new ShortRetryProducer(
      { connection: producerRedis, prefix: redis.prefix },
      options.releaseEventRetry,
    );
    await producer.queue(queueNames.events).waitUntilReady();
    const ingress = await listen(
      createIngressApp({
        producer,
        signingKeys: testWebhookSigningKeys,
        logger,
        registry: createMetricsRegistry('ingress'),
        queueIsUp: () => producerRedis.status === 'ready',
        readinessChecks: {},
      }),
      { port: 0, host: '127.0.0.1' },
    );
    const sync = new SyncService({
      db: database.client.db,
      keyring: Keyring.fromSpecs(testEncryptionKeys),
      logger,
      heroku: { apiUrl: simServer.url, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 }, timeoutMs: 2000 },
      webhooks: { publicBaseUrl: ingress.url, signingKeys: testWebhookSigningKeys },
      // Every account's whole budget for the reconciler: a one-link account's link is due every 1.6 s.
      options: { reconcileBudgetShare: 1, reconcileMinIntervalMs: options.reconcileMinIntervalMs },
    });
    const workerRedis = createRedis(testServices.redisUrl, { role: 'worker', name: 'hds-worker-outage' });
    const worker = await startWorkerRuntime({
      sync,
      redis: workerRedis,
      prefix: redis.prefix,
      logger,
      metrics: createWorkerMetrics(createMetricsRegistry('worker')),
      concurrency: 8,
      reconcileTickMs: options.reconcileTickMs,
    });
    return new OutagePipeline(sim, simServer, simServer.port, sync, producer.queue(queueNames.events), {
      database,
      redis,
      ingress,
      producer,
      producerRedis,
      workerRedis,
      worker,
    });
  }

  get simUrl(): string {
    return `http://127.0.0.1:${this.simPort}`;
  }

  /** Heroku's API goes away: its port refuses connections. */
  async takeHerokuDown(): Promise<void> {
    const server = this.simServer;
    this.simServer = undefined;
    await server?.close();
  }

  /** Heroku's API answers again, on the same port, with the same state. */
  async bringHerokuBack(): Promise<void> {
    if (this.simServer) return;
    this.simServer = await this.sim.listen({ port: this.simPort });
  }

  /** A sim account with an app (Heroku Postgres), added by API key and synced to a new project. */
  async linkedProject(prefix: string) {
    const account = this.sim.createAccount({ email: `${prefix}-${randomUUID().slice(0, 8)}@example.com` });
    const app = this.sim.createApp({ name: `${prefix}-${randomUUID().slice(0, 8)}`, accountId: account.id });
    const { account: added } = await this.sync.addAccount({ apiKey: account.apiKey });
    const project = await this.sync.createProject({
      name: app.name,
      heroku: { accountId: added.id, app: app.name },
    });
    return { projectId: project.id, linkId: project.sync.linkId!, app };
  }

  async envValue(projectId: string): Promise<string | undefined> {
    return (await this.sync.listEnvVars(projectId, true)).find((v) => v.name === 'HASURA_GRAPHQL_DATABASE_URL')?.value;
  }

  async close(): Promise<void> {
    const p = this.parts;
    await p.worker.close();
    p.workerRedis.disconnect();
    await this.sim.close();
    await p.ingress.close(1000);
    await p.producer.close();
    p.producerRedis.disconnect();
    await p.redis.cleanup();
    await p.database.drop();
  }
}
