import type { Logger } from '@hds/core';
import { startRelay, type DeliveryEngine, type Relay, type RelayOptions } from '@hds/destinations';
import { jobCatalog, JobProducer, queueNames } from '@hds/queue';
import type { MigrationService } from '@hds/migrate-data';
import type { SyncService } from '@hds/sync';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { runJob, type HandlerContext, type ReconcileMode } from './handlers.js';
import type { WorkerMetrics } from './metrics.js';
import { endMigrationsOfFailedJobs, failedForGood } from './migration-failures.js';

export interface WorkerRuntimeOptions {
  sync: SyncService;
  /** With it, the worker also runs data migrations (`migrationConcurrency` at a time). */
  migrations?: MigrationService;
  migrationConcurrency?: number;
  /** A worker-role connection (maxRetriesPerRequest: null); the runtime duplicates it for its workers. */
  redis: Redis;
  prefix: string;
  logger: Logger;
  metrics: WorkerMetrics;
  concurrency: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  reconcileTickMs: number;
  reconcileBatch?: number;
  deliveries: DeliveryEngine;
  deliveryConcurrency?: number;
  /** The outbox relay (LISTEN connection and sweep); left out, nothing moves deliveries to the queue. */
  relay?: Omit<RelayOptions, 'enqueue' | 'logger'>;
  /** Default `sweep`. */
  reconcileMode?: ReconcileMode;
}

export interface WorkerRuntime {
  producer: JobProducer;
  relay: Relay | null;
  /**
   * Stops taking jobs, lets active ones finish, closes connections. With `force`, does not wait for active jobs
   * and never reports them to Redis (their locks lapse and another worker takes them over as stalled): what a
   * crash looks like to BullMQ.
   */
  close(options?: { force?: boolean }): Promise<void>;
}

const RECONCILE_SCHEDULER_ID = 'reconcile-tick';

/**
 * The worker process's queue side: consumes release events and reconcile jobs, and keeps the reconcile
 * scheduler registered (every worker upserts the same scheduler, so there is one however many run).
 */
export async function startWorkerRuntime(options: WorkerRuntimeOptions): Promise<WorkerRuntime> {
  const producer = new JobProducer({ connection: options.redis, prefix: options.prefix });
  const ctx: HandlerContext = {
    sync: options.sync,
    ...(options.migrations ? { migrations: options.migrations } : {}),
    producer,
    logger: options.logger,
    reconcileBatch: options.reconcileBatch ?? 200,
    deliveries: options.deliveries,
    reconcileMode: options.reconcileMode ?? 'sweep',
  };

  const processor = async (job: Job, token?: string) => {
    const { outcome, result } = await runJob(job, token, ctx);
    options.metrics.jobs.inc({ job: job.name, outcome });
    return result;
  };

  const common = {
    connection: options.redis,
    prefix: options.prefix,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: 2,
  };
  const workers = [
    new Worker(queueNames.events, processor, { ...common, concurrency: options.concurrency }),
    new Worker(queueNames.reconcile, processor, {
      ...common,
      concurrency: Math.max(2, Math.ceil(options.concurrency / 4)),
    }),
    new Worker(queueNames.deliveries, processor, { ...common, concurrency: options.deliveryConcurrency ?? 64 }),
  ];
  let migrationFailures: { drain(): Promise<void> } | undefined;
  if (options.migrations) {
    // Long jobs: the lock is renewed while they run; a dead worker's migration is taken over and resumes.
    const migrationsWorker = new Worker(queueNames.migrations, processor, {
      ...common,
      concurrency: options.migrationConcurrency ?? 1,
    });
    workers.push(migrationsWorker);
    // A job given up (stalled too often, say) ends its migration and cleans up.
    migrationFailures = endMigrationsOfFailedJobs(migrationsWorker, {
      migrations: options.migrations,
      logger: options.logger,
    });
  }

  for (const worker of workers) {
    worker.on('failed', (job, err) => {
      if (!job || err instanceof DelayedError || err.name === 'DelayedError') return;
      // Unrecoverable (a job stalled more often than allowed, say) is final too, whatever attempts are left.
      const final = failedForGood(job, err);
      options.metrics.jobs.inc({ job: job.name, outcome: final ? 'failed' : 'retry' });
      const log = options.logger.child({ jobId: job.id, job: job.name, attempt: job.attemptsMade });
      if (!final) {
        log.warn({ err }, 'job failed; it will be retried');
        return;
      }
      log.error({ err }, 'job failed after its last attempt; retry it from Bull Board once the cause is fixed');
      const linkId = (job.data as { linkId?: unknown }).linkId;
      if (typeof linkId === 'string') {
        void options.sync
          .markLinkFailing(linkId, `gave up after ${job.attemptsMade} attempts: ${err.message}`)
          .catch((markErr: unknown) => log.error({ err: markErr }, 'could not record the failure on the link'));
      }
    });
    worker.on('error', (err) => options.logger.error({ err }, 'worker error'));
  }

  await producer
    .queue(queueNames.reconcile)
    .upsertJobScheduler(
      RECONCILE_SCHEDULER_ID,
      { every: options.reconcileTickMs },
      { name: 'reconcile-tick', data: {}, opts: jobCatalog['reconcile-tick'].options },
    );
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const deliveriesQueue = producer.queue(queueNames.deliveries);
  const relay = options.relay
    ? await startRelay({
        ...options.relay,
        logger: options.logger.child({ component: 'relay' }),
        enqueue: async (due) => {
          await deliveriesQueue.addBulk(
            due.map(({ id, delayMs }) => ({
              name: 'deliver',
              data: { deliveryId: id },
              opts: { ...jobCatalog.deliver.options, jobId: id, ...(delayMs > 0 ? { delay: delayMs } : {}) },
            })),
          );
        },
      })
    : null;
  // What was committed while no worker ran.
  await relay?.pump({ sweep: true });
  options.logger.info({ concurrency: options.concurrency, prefix: options.prefix }, 'worker consuming');

  return {
    producer,
    relay,
    close: async (closeOptions = {}) => {
      await relay?.close();
      await Promise.all(workers.map((w) => w.close(closeOptions.force ?? false)));
      await migrationFailures?.drain();
      await producer.close();
    },
  };
}
