import { randomUUID } from 'node:crypto';
import { createLogger, createMetricsRegistry, Keyring, listen, type Logger, type RunningServer } from '@hds/core';
import { createHerokuSim, type HerokuSim, type HerokuSimOptions, type SimServer } from '@hds/heroku-sim';
import type { RetryPolicy } from '@hds/heroku';
import { connectQueue, createIngressApp, type IngressQueue } from '@hds/ingress';
import { createDeliveries, DestinationsService, parseOutboundPolicy, type LookupAll } from '@hds/destinations';
import { createRedis, queueNames, type JobProducer } from '@hds/queue';
import { SyncService, type SyncOptions } from '@hds/sync';
import { createWorkerMetrics, startWorkerRuntime, type WorkerRuntime } from '@hds/worker';
import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import postgres from 'postgres';
import { testEncryptionKeys, testServices, testWebhookSigningKeys } from '../config.js';
import { createTestDatabase, type TestDatabase } from '../database.js';
import { startSourceProcess, type RunningProcess } from '../process.js';
import { createTestRedis, type TestRedis } from '../redis.js';
import { waitFor } from '../wait.js';
import { RetryOverrideProducer } from './retry-override-producer.js';

/** The OAuth client the pipeline's sim accepts and its SyncService refreshes tokens with. */
export const OAUTH_CLIENT = { id: 'pipeline-client', secret: 'pipeline-client-secret' };

export interface PipelineOptions {
  /** In-process worker runtimes to start (0 for tests that start their own, or worker processes). */
  workers?: number;
  /** Release events one worker runtime processes at once. Default 16. */
  concurrency?: number;
  sim?: HerokuSimOptions;
  sync?: Partial<SyncOptions>;
  /** The SyncService's Heroku client: retries and per-call timeout. */
  heroku?: { retry?: RetryPolicy; timeoutMs?: number };
  /** Reconcile tick; long by default so that reconciles only run when a test asks. */
  reconcileTickMs?: number;
  /** How the reconciler works (default `sweep`, as in production). */
  reconcileMode?: 'sweep' | 'per-link';
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Attempts and backoff of release-event jobs instead of the catalog's (a test that outlasts every attempt). */
  releaseEventRetry?: Pick<JobsOptions, 'attempts' | 'backoff'>;
  /** The database pool. Default 20. */
  poolSize?: number;
  /** Deliveries to destinations (defaults: private targets allowed, a fast retry schedule). */
  deliveries?: {
    scheduleMs?: number[];
    disableAfterMs?: number;
    timeoutMs?: number;
    allowPrivate?: boolean;
    allowedHosts?: string[];
    lookup?: LookupAll;
    sweepIntervalMs?: number;
    /** FILE_DESTINATIONS_ROOT: with it, file destinations can be made. */
    fileRoot?: string;
  };
}

export interface LinkedProject {
  projectId: string;
  linkId: string;
  accountId: string;
  simAccountId: string;
  apiKey: string;
  app: { id: string; name: string };
}

interface Parts {
  database: TestDatabase;
  redis: TestRedis;
  sim: HerokuSim;
  simServer: SimServer;
  queue: IngressQueue;
  producer: JobProducer;
  ingress: RunningServer;
  sync: SyncService;
  logger: Logger;
  listener: postgres.Sql;
}

/**
 * The whole service in one process, on a fresh database and Redis prefix: heroku-sim (delivering signed webhooks)
 * → ingress → BullMQ → worker runtime(s) → Postgres. The one home of the in-process pipeline the worker, admin
 * and fault tests use; each test file starts its own and closes it. The sim's state outlives its HTTP server
 * (`takeHerokuDown`, `bringHerokuBack`), and a test can add worker runtimes, crash them, or run worker processes.
 */
export class Pipeline {
  readonly workers: WorkerRuntime[] = [];
  readonly database: TestDatabase;
  readonly redis: TestRedis;
  readonly sim: HerokuSim;
  /** The ingress's producer (release events retry as `releaseEventRetry` says, if given). */
  readonly producer: JobProducer;
  readonly ingress: RunningServer;
  readonly sync: SyncService;
  /** Destinations and read tokens, as the admin API drives them. */
  readonly destinations: DestinationsService;
  readonly logger: Logger;
  /** What the webhooks the SyncService creates point at, and sign with. */
  readonly webhooks: { publicBaseUrl: string; signingKeys: readonly string[] };
  private simServer: SimServer | undefined;
  readonly simPort: number;
  private readonly queue: IngressQueue;
  private readonly listener: postgres.Sql;
  private readonly envWaiters = new Map<string, (() => void)[]>();
  private readonly workerConnections = new Map<WorkerRuntime, Redis>();
  private readonly processes = new Set<RunningProcess>();
  private readonly deliveryClosers = new Map<WorkerRuntime, () => Promise<void>>();
  private readonly adminDeliveries: ReturnType<typeof createDeliveries>;

  private constructor(
    parts: Parts,
    private readonly options: PipelineOptions,
  ) {
    this.database = parts.database;
    this.redis = parts.redis;
    this.sim = parts.sim;
    this.simServer = parts.simServer;
    this.simPort = parts.simServer.port;
    this.queue = parts.queue;
    this.producer = parts.producer;
    this.ingress = parts.ingress;
    this.sync = parts.sync;
    this.logger = parts.logger;
    this.listener = parts.listener;
    this.webhooks = parts.sync.ctx.webhooks;
    this.adminDeliveries = this.createDeliveryEngine();
    this.destinations = new DestinationsService({
      db: parts.database.client.db,
      keyring: parts.sync.ctx.keyring,
      kinds: this.adminDeliveries.kinds,
    });
  }

  /** A delivery engine on this pipeline's database, as a worker builds it (the caller closes it). */
  createDeliveryEngine(): ReturnType<typeof createDeliveries> {
    const d = this.options.deliveries ?? {};
    return createDeliveries({
      db: this.database.client.db,
      keyring: this.sync.ctx.keyring,
      policy: parseOutboundPolicy({ allowPrivate: d.allowPrivate ?? true, allowedHosts: d.allowedHosts ?? [] }),
      scheduleMs: d.scheduleMs ?? [0, 50, 100, 200],
      disableAfterMs: d.disableAfterMs ?? 5 * 24 * 3600_000,
      timeoutMs: d.timeoutMs ?? 2000,
      logger: this.logger,
      ...(d.lookup ? { lookup: d.lookup } : {}),
      ...(d.fileRoot ? { fileRoot: d.fileRoot } : {}),
    });
  }

  static async start(options: PipelineOptions = {}): Promise<Pipeline> {
    const logger = createLogger({ app: 'pipeline-test', level: 'silent' });
    const database = await createTestDatabase({ poolSize: options.poolSize ?? 20 });
    const redis = await createTestRedis();
    const sim = createHerokuSim({
      retryScheduleMs: [20, 50, 100, 200],
      deliveryTimeoutMs: 5000,
      oauthClients: [OAUTH_CLIENT],
      ...options.sim,
    });
    const simServer = await sim.listen();
    const queue = connectQueue({ redisUrl: testServices.redisUrl, prefix: redis.prefix, logger });
    const producer = options.releaseEventRetry
      ? new RetryOverrideProducer({ connection: queue.redis, prefix: redis.prefix }, options.releaseEventRetry)
      : queue.producer;
    await producer.queue(queueNames.events).waitUntilReady();
    const ingress = await listen(
      createIngressApp({
        producer,
        signingKeys: testWebhookSigningKeys,
        logger,
        registry: createMetricsRegistry('ingress'),
        queueIsUp: queue.isUp,
        readinessChecks: {},
      }),
      { port: 0, host: '127.0.0.1' },
    );
    const sync = new SyncService({
      db: database.client.db,
      keyring: Keyring.fromSpecs(testEncryptionKeys),
      logger,
      heroku: {
        apiUrl: simServer.url,
        oauth: { oauthUrl: simServer.url, clientId: OAUTH_CLIENT.id, clientSecret: OAUTH_CLIENT.secret },
        retry: options.heroku?.retry ?? { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
        timeoutMs: options.heroku?.timeoutMs ?? 5000,
      },
      webhooks: { publicBaseUrl: ingress.url, signingKeys: testWebhookSigningKeys },
      options: { rateLimitBackoffMs: 300, reconcileMinIntervalMs: 100, ...options.sync },
    });
    const listener = postgres(database.url, { max: 1, onnotice: () => {} });
    const pipeline = new Pipeline(
      { database, redis, sim, simServer, queue, producer, ingress, sync, logger, listener },
      options,
    );
    await listener.listen('project_env_changed', (projectId) => pipeline.envChanged(projectId));
    for (let i = 0; i < (options.workers ?? 1); i += 1) await pipeline.startWorker();
    return pipeline;
  }

  /** The events queue (release-event jobs), on the ingress's connection. */
  get events(): Queue {
    return this.producer.queue(queueNames.events);
  }

  /** Heroku's API and OAuth as the service reaches them (the same address after `bringHerokuBack`). */
  get simUrl(): string {
    return `http://127.0.0.1:${this.simPort}`;
  }

  /** Heroku's API goes away: its port refuses connections. The sim's state (and its deliveries) live on. */
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

  /**
   * Starts one more in-process worker runtime (its own Redis connection) on the pipeline's queues. `sync` replaces
   * the pipeline's SyncService for this runtime (e.g. a wrapper that observes the calls its jobs make).
   */
  async startWorker(options: { sync?: SyncService } = {}): Promise<WorkerRuntime> {
    const connection = createRedis(testServices.redisUrl, { role: 'worker', name: 'hds-worker-test' });
    const deliveries = this.createDeliveryEngine();
    const runtime = await startWorkerRuntime({
      deliveries: deliveries.engine,
      relay: {
        db: this.database.client.db,
        listenSql: this.database.client.sql,
        sweepIntervalMs: this.options.deliveries?.sweepIntervalMs ?? 60_000,
      },
      sync: options.sync ?? this.sync,
      redis: connection,
      prefix: this.redis.prefix,
      logger: this.logger,
      metrics: createWorkerMetrics(createMetricsRegistry('worker')),
      concurrency: this.options.concurrency ?? 16,
      reconcileTickMs: this.options.reconcileTickMs ?? 3_600_000,
      ...(this.options.reconcileMode === undefined ? {} : { reconcileMode: this.options.reconcileMode }),
      ...(this.options.lockDurationMs === undefined ? {} : { lockDurationMs: this.options.lockDurationMs }),
      ...(this.options.stalledIntervalMs === undefined ? {} : { stalledIntervalMs: this.options.stalledIntervalMs }),
    });
    this.workers.push(runtime);
    this.workerConnections.set(runtime, connection);
    this.deliveryClosers.set(runtime, () => deliveries.close());
    return runtime;
  }

  /**
   * Crashes an in-process worker runtime, as far as BullMQ can tell: closed with force (its active jobs are
   * neither completed nor failed, their locks are no longer renewed) and its Redis connection cut, so another
   * worker takes its jobs over as stalled once the lock duration has passed. The processors it was running go
   * on (a process that froze or lost Redis, not one that died): whatever they still write to Postgres is what
   * the version guard has to make harmless.
   */
  async crashWorker(runtime: WorkerRuntime): Promise<void> {
    const index = this.workers.indexOf(runtime);
    if (index < 0) throw new Error('not a running worker runtime of this pipeline');
    this.workers.splice(index, 1);
    await runtime.close({ force: true });
    this.workerConnections.get(runtime)?.disconnect();
    this.workerConnections.delete(runtime);
    await this.deliveryClosers.get(runtime)?.();
    this.deliveryClosers.delete(runtime);
  }

  /**
   * Starts the real worker entry point (apps/worker/src/main.ts) as a child process on this pipeline's database,
   * Redis prefix, sim and ingress; resolves once it consumes. The caller stops (or kills) it.
   */
  async startWorkerProcess(env: Record<string, string> = {}): Promise<RunningProcess> {
    const child = startSourceProcess('apps/worker/src/main.ts', {
      DATABASE_URL: this.database.url,
      REDIS_URL: testServices.redisUrl,
      QUEUE_PREFIX: this.redis.prefix,
      HEROKU_API_URL: this.simUrl,
      HEROKU_OAUTH_URL: this.simUrl,
      HEROKU_OAUTH_CLIENT_ID: OAUTH_CLIENT.id,
      HEROKU_OAUTH_CLIENT_SECRET: OAUTH_CLIENT.secret,
      PUBLIC_WEBHOOK_BASE_URL: this.ingress.url,
      WEBHOOK_SIGNING_KEYS: testWebhookSigningKeys.join(','),
      ENCRYPTION_KEYS: testEncryptionKeys.join(','),
      PORT: '0',
      LOG_LEVEL: 'info',
      RECONCILE_TICK_MS: String(this.options.reconcileTickMs ?? 3_600_000),
      RATE_LIMIT_BACKOFF_MS: '300',
      ...env,
    });
    this.processes.add(child);
    void child.exited.then(() => this.processes.delete(child));
    await child.waitForLine((line) => line.includes('"worker consuming"'), { timeoutMs: 30_000 });
    return child;
  }

  /**
   * A heroku-sim account with an app (with Heroku Postgres), stored as a service account and synced to a new
   * project. `prefix` starts the app's name; `simAccountId` and `apiKey` reuse an account.
   */
  async linkedProject(
    options: { email?: string; appName?: string; prefix?: string; simAccountId?: string; apiKey?: string } = {},
  ): Promise<LinkedProject> {
    let simAccountId = options.simAccountId;
    let apiKey = options.apiKey;
    if (simAccountId === undefined || apiKey === undefined) {
      const account = this.sim.createAccount({
        email: options.email ?? `${options.prefix ?? 'owner'}-${randomUUID().slice(0, 8)}@example.com`,
      });
      simAccountId = account.id;
      apiKey = account.apiKey;
    }
    const app = this.sim.createApp({
      name: options.appName ?? `${options.prefix ?? 'app'}-${randomUUID().slice(0, 12)}`,
      accountId: simAccountId,
    });
    const { account } = await this.sync.addAccount({ apiKey });
    const project = await this.sync.createProject({
      name: `project for ${app.name}`,
      heroku: { accountId: account.id, app: app.name },
    });
    if (!project.sync.linkId) throw new Error('the sync was not enabled');
    return {
      projectId: project.id,
      linkId: project.sync.linkId,
      accountId: account.id,
      simAccountId,
      apiKey,
      app: { id: app.id, name: app.name },
    };
  }

  /** The project's env var in clear. */
  async envValue(projectId: string, name = 'HASURA_GRAPHQL_DATABASE_URL'): Promise<string | undefined> {
    const vars = await this.sync.listEnvVars(projectId, true);
    return vars.find((v) => v.name === name)?.value;
  }

  /** Resolves when a commit changes an env var of `projectId` (Postgres NOTIFY from the commit). */
  nextEnvChange(projectId: string): Promise<void> {
    return new Promise((resolve) => {
      this.envWaiters.set(projectId, [...(this.envWaiters.get(projectId) ?? []), resolve]);
    });
  }

  private envChanged(projectId: string): void {
    for (const resolve of this.envWaiters.get(projectId) ?? []) resolve();
    this.envWaiters.delete(projectId);
  }

  /** Waits until the project's sync has applied `version` (or a later one). */
  async waitForVersion(projectId: string, version: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(async () => ((await this.sync.getSyncStatus(projectId)).lastReleaseVersion ?? 0) >= version, {
      timeoutMs,
      what: `release v${version} applied to project ${projectId}`,
    });
  }

  /** Audit rows of one kind for a project, oldest first. */
  async audit(projectId: string, action = 'env_synced') {
    const entries = await this.sync.listAudit(projectId, { limit: 500 });
    return entries.filter((e) => e.action === action).reverse();
  }

  /** Resolves when no job is waiting, delayed or active on the events queue. */
  async eventsDrained(timeoutMs = 10_000): Promise<void> {
    await waitFor(
      async () => {
        const counts = await this.events.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      },
      { timeoutMs, what: 'the events queue to drain' },
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.processes].map((p) => p.stop('SIGKILL')));
    await Promise.all(this.workers.map((w) => w.close()));
    for (const connection of this.workerConnections.values()) connection.disconnect();
    await Promise.all([...this.deliveryClosers.values()].map((close) => close()));
    await this.adminDeliveries.close();
    await this.listener.end();
    await this.sim.close();
    await this.ingress.close(1000);
    if (this.producer !== this.queue.producer) await this.producer.close();
    await this.queue.close();
    await this.redis.cleanup();
    await this.database.drop();
  }
}
