import { randomUUID } from 'node:crypto';
import { createLogger, createMetricsRegistry, Keyring, listen, type Logger, type RunningServer } from '@hds/core';
import { createHerokuSim, type HerokuSim, type HerokuSimOptions, type SimServer } from '@hds/heroku-sim';
import { connectQueue, createIngressApp, type IngressQueue } from '@hds/ingress';
import { createRedis, queueNames } from '@hds/queue';
import { SyncService, type SyncOptions } from '@hds/sync';
import {
  createTestDatabase,
  createTestRedis,
  startSourceProcess,
  testEncryptionKeys,
  testServices,
  testWebhookSigningKeys,
  waitFor,
  type RunningProcess,
  type TestDatabase,
  type TestRedis,
} from '@hds/testkit';
import type { Redis } from 'ioredis';
import { createWorkerMetrics } from '../metrics.js';
import { startWorkerRuntime, type WorkerRuntime } from '../runtime.js';

export const OAUTH_CLIENT = { id: 'pipeline-client', secret: 'pipeline-client-secret' };

export interface PipelineOptions {
  /** In-process worker runtimes to start (0 for tests that run worker processes). */
  workers?: number;
  concurrency?: number;
  sim?: HerokuSimOptions;
  sync?: Partial<SyncOptions>;
  /** Reconcile tick; long by default so that reconciles only run when a test asks. */
  reconcileTickMs?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export interface LinkedProject {
  projectId: string;
  linkId: string;
  accountId: string;
  simAccountId: string;
  apiKey: string;
  app: { id: string; name: string };
}

/**
 * The whole pipeline in one process, on a fresh database and Redis prefix: heroku-sim (delivering signed
 * webhooks) → ingress → BullMQ → worker runtime(s) → Postgres. Each test file starts its own and closes it.
 */
export class Pipeline {
  readonly workers: WorkerRuntime[] = [];
  private readonly workerConnections: Redis[] = [];
  private readonly connectionOf = new Map<WorkerRuntime, Redis>();
  private readonly processes = new Set<RunningProcess>();

  private constructor(
    readonly database: TestDatabase,
    readonly redis: TestRedis,
    readonly sim: HerokuSim,
    readonly simServer: SimServer,
    readonly queue: IngressQueue,
    readonly ingress: RunningServer,
    readonly sync: SyncService,
    readonly logger: Logger,
    private readonly options: PipelineOptions,
  ) {}

  static async start(options: PipelineOptions = {}): Promise<Pipeline> {
    const logger = createLogger({ app: 'pipeline-test', level: 'silent' });
    const database = await createTestDatabase({ poolSize: 20 });
    const redis = await createTestRedis();
    const sim = createHerokuSim({
      retryScheduleMs: [20, 50, 100, 200],
      deliveryTimeoutMs: 5000,
      oauthClients: [OAUTH_CLIENT],
      ...options.sim,
    });
    const simServer = await sim.listen();
    const queue = connectQueue({ redisUrl: testServices.redisUrl, prefix: redis.prefix, logger });
    await queue.producer.queue(queueNames.events).waitUntilReady();
    const ingress = await listen(
      createIngressApp({
        producer: queue.producer,
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
        retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
        timeoutMs: 5000,
      },
      webhooks: { publicBaseUrl: ingress.url, signingKeys: testWebhookSigningKeys },
      options: { rateLimitBackoffMs: 300, reconcileMinIntervalMs: 100, ...options.sync },
    });
    const pipeline = new Pipeline(database, redis, sim, simServer, queue, ingress, sync, logger, options);
    for (let i = 0; i < (options.workers ?? 1); i += 1) await pipeline.startWorker();
    return pipeline;
  }

  /**
   * Starts one more in-process worker runtime (its own Redis connection) on the pipeline's queues. `sync` replaces
   * the pipeline's SyncService for this runtime (e.g. a wrapper that observes the calls its jobs make).
   */
  async startWorker(options: { sync?: SyncService } = {}): Promise<WorkerRuntime> {
    const connection = createRedis(testServices.redisUrl, { role: 'worker', name: 'hds-worker-test' });
    this.workerConnections.push(connection);
    const runtime = await startWorkerRuntime({
      sync: options.sync ?? this.sync,
      redis: connection,
      prefix: this.redis.prefix,
      logger: this.logger,
      metrics: createWorkerMetrics(createMetricsRegistry('worker')),
      concurrency: this.options.concurrency ?? 16,
      reconcileTickMs: this.options.reconcileTickMs ?? 3_600_000,
      ...(this.options.lockDurationMs === undefined ? {} : { lockDurationMs: this.options.lockDurationMs }),
      ...(this.options.stalledIntervalMs === undefined ? {} : { stalledIntervalMs: this.options.stalledIntervalMs }),
    });
    this.workers.push(runtime);
    this.connectionOf.set(runtime, connection);
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
    const connection = this.connectionOf.get(runtime);
    this.connectionOf.delete(runtime);
    if (connection) {
      connection.disconnect();
      this.workerConnections.splice(this.workerConnections.indexOf(connection), 1);
    }
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
      HEROKU_API_URL: this.simServer.url,
      HEROKU_OAUTH_URL: this.simServer.url,
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

  /** A heroku-sim account with an app (with Heroku Postgres), stored as a service account and synced to a new project. */
  async linkedProject(
    options: { email?: string; appName?: string; simAccountId?: string; apiKey?: string } = {},
  ): Promise<LinkedProject> {
    let simAccountId = options.simAccountId;
    let apiKey = options.apiKey;
    if (simAccountId === undefined || apiKey === undefined) {
      const account = this.sim.createAccount({
        email: options.email ?? `owner-${randomUUID().slice(0, 8)}@example.com`,
      });
      simAccountId = account.id;
      apiKey = account.apiKey;
    }
    const app = this.sim.createApp({
      name: options.appName ?? `app-${randomUUID().slice(0, 12)}`,
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
    const queue = this.queue.producer.queue(queueNames.events);
    await waitFor(
      async () => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      },
      { timeoutMs, what: 'the events queue to drain' },
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.processes].map((p) => p.stop('SIGKILL')));
    await Promise.all(this.workers.map((w) => w.close()));
    for (const connection of this.workerConnections) connection.disconnect();
    await this.sim.close();
    await this.ingress.close(1000);
    await this.queue.close();
    await this.redis.cleanup();
    await this.database.drop();
  }
}
