import type { Logger } from '@hds/core';
import type { DeliveryEngine } from '@hds/destinations';
import { jobCatalog, parseJobData, releaseEventJobId, type JobData, type JobName, type JobProducer } from '@hds/queue';
import type { MigrationService } from '@hds/migrate-data';
import { assertNever, type SyncService } from '@hds/sync';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';

export interface HandlerContext {
  sync: SyncService;
  /** Runs data migrations; a worker without it does not consume the migrations queue. */
  migrations?: MigrationService;
  producer: JobProducer;
  logger: Logger;
  /** Links (or accounts) claimed per reconcile tick. */
  reconcileBatch: number;
  deliveries: DeliveryEngine;
  /** `sweep`: each account's app list, paced by its budget; `per-link`: each link on its own (the former way). */
  reconcileMode: ReconcileMode;
}

export type ReconcileMode = 'sweep' | 'per-link';

/** What a handler returns: the outcome label for metrics, and the result stored on the job. */
export interface HandlerResult {
  outcome: string;
  result: unknown;
}

type Handler<N extends JobName> = (input: {
  data: JobData<N>;
  job: Job;
  token: string | undefined;
  logger: Logger;
  ctx: HandlerContext;
}) => Promise<HandlerResult>;

/**
 * Moves the job back to the delayed set until `retryAt` without spending an attempt (the account's budget is
 * spent, the job is fine), and frees this worker's slot for other accounts' jobs.
 */
async function delayUntil(job: Job, token: string | undefined, retryAt: Date): Promise<never> {
  await job.moveToDelayed(retryAt.getTime(), token);
  throw new DelayedError();
}

/** One handler per job of the catalog: a job without a handler does not compile. */
export const handlers: { [N in JobName]: Handler<N> } = {
  'release-event': async ({ data, job, token, ctx }) => {
    const result = await ctx.sync.processReleaseEvent(data, `event:${releaseEventJobId(data)}`);
    if (result.outcome === 'rate_limited') return delayUntil(job, token, result.retryAt);
    return { outcome: result.outcome, result };
  },

  'reconcile-tick': async ({ ctx, logger }) => {
    switch (ctx.reconcileMode) {
      case 'sweep': {
        const sweeps = await ctx.sync.claimDueSweeps(ctx.reconcileBatch);
        for (const { accountId, slot } of sweeps) {
          await ctx.producer.add('reconcile-account', { accountId }, { jobId: `sweep-${accountId}-${slot}` });
        }
        if (sweeps.length > 0) logger.debug({ accounts: sweeps.length }, 'sweeps scheduled');
        return { outcome: 'ok', result: { scheduled: sweeps.length } };
      }
      case 'per-link':
        break;
      default:
        return assertNever(ctx.reconcileMode);
    }
    const due = await ctx.sync.claimDueLinks(ctx.reconcileBatch);
    for (const { linkId, slot } of due) {
      // One job per booked slot: a later slot gets a new id even while an old job is kept as completed.
      await ctx.producer.add(
        'reconcile-link',
        { linkId, reason: 'schedule' },
        { jobId: `reconcile-${linkId}-${slot}` },
      );
    }
    if (due.length > 0) logger.debug({ links: due.length }, 'reconciles scheduled');
    return { outcome: 'ok', result: { scheduled: due.length } };
  },

  'data-migration': async ({ data, job, ctx }) => {
    if (!ctx.migrations) throw new UnrecoverableError('this worker does not run data migrations');
    const result = await ctx.migrations.run({
      migrationId: data.migrationId,
      lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      report: (progress) => job.updateProgress({ ...progress }),
    });
    return { outcome: result.state, result };
  },

  'reconcile-account': async ({ data, job, ctx }) => {
    const result = await ctx.sync.sweepAccount(data.accountId, `sweep:${job.id ?? data.accountId}`);
    // A spent budget is recorded on the account: its next sweep waits for it, so this job is done either way.
    return { outcome: result.outcome, result };
  },

  'reconcile-link': async ({ data, job, token, ctx }) => {
    const result = await ctx.sync.reconcileLink(data.linkId, data.reason, `reconcile:${job.id ?? data.linkId}`);
    if (result.outcome === 'rate_limited') return delayUntil(job, token, result.retryAt);
    return { outcome: result.outcome, result };
  },

  deliver: async ({ data, job, token, ctx }) => {
    const result = await ctx.deliveries.process(data.deliveryId);
    // The delivery's schedule is in Postgres; the job waits in the delayed set without spending a BullMQ attempt.
    if (result.kind === 'later') return delayUntil(job, token, result.at);
    return { outcome: result.status, result };
  },
};

function isJobName(name: string): name is JobName {
  return Object.hasOwn(jobCatalog, name);
}

/** Runs the handler for a job: validates its data against the catalog and gives it a child logger. */
export async function runJob(job: Job, token: string | undefined, ctx: HandlerContext): Promise<HandlerResult> {
  if (!isJobName(job.name)) throw new UnrecoverableError(`no handler for job ${job.name}`);
  const name = job.name;
  let data: JobData<typeof name>;
  try {
    data = parseJobData(name, job.data);
  } catch {
    // Retrying cannot fix a job whose data does not match the catalog.
    throw new UnrecoverableError(`job data does not match the catalog for ${name}`);
  }
  const bindings: Record<string, unknown> = { jobId: job.id, job: name, attempt: job.attemptsMade + 1 };
  if ('linkId' in data) bindings.linkId = data.linkId;
  if ('version' in data) bindings.release = data.version;
  if ('migrationId' in data) bindings.migrationId = data.migrationId;
  const logger = ctx.logger.child(bindings);
  const handler = handlers[name] as Handler<typeof name>;
  return handler({ data, job, token, logger, ctx });
}
