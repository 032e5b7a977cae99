import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { queueNames, type QueueName } from './names.js';

const DAY_S = 24 * 60 * 60;

/** One job kind: where it goes, what its data looks like, and how it retries. */
export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  queue: QueueName;
  schema: S;
  options: JobsOptions;
}

/**
 * The one catalog of jobs, shared by producers and consumers. Job data holds ids, versions and status:
 * never a config value, a token, or personal data.
 */
export const jobCatalog = {
  /**
   * A verified `api:release` delivery for a link. Job id = `releaseEventJobId` (the Heroku event id and the
   * link), so redeliveries add nothing, while two links subscribed to one app each get their job.
   */
  'release-event': {
    queue: queueNames.events,
    schema: z.object({
      eventId: z.uuid(),
      linkId: z.uuid(),
      appId: z.uuid(),
      version: z.number().int().positive(),
      status: z.string().max(32),
      action: z.string().max(64),
      /** When the ingress accepted it (ms since epoch), for the webhook-to-commit latency. */
      receivedAt: z.number().int().nonnegative(),
    }),
    options: {
      attempts: 12,
      backoff: { type: 'exponential', delay: 1000, jitter: 1 },
      // Completed jobs are kept three days (Heroku's redelivery window), so a late redelivery of the same
      // event id finds its job and adds nothing. The durable dedupe is the worker's version guard.
      removeOnComplete: { age: 3 * DAY_S, count: 200_000 },
      removeOnFail: { age: 14 * DAY_S },
    },
  },
  /** Scheduled: finds links due for a reconcile and enqueues `reconcile-link` for each. */
  'reconcile-tick': {
    queue: queueNames.reconcile,
    schema: z.object({}),
    options: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
  },
  /** Checks one link against Heroku: newest release applied, webhook present. */
  'reconcile-link': {
    queue: queueNames.reconcile,
    schema: z.object({
      linkId: z.uuid(),
      reason: z.enum(['schedule', 'manual', 'recovery']),
    }),
    options: {
      attempts: 6,
      backoff: { type: 'exponential', delay: 2000, jitter: 1 },
      removeOnComplete: { age: DAY_S, count: 10_000 },
      removeOnFail: { age: 7 * DAY_S },
    },
  },
} as const satisfies Record<string, JobDefinition>;

export type JobName = keyof typeof jobCatalog;
export type JobData<N extends JobName> = z.infer<(typeof jobCatalog)[N]['schema']>;
export type JobsOf<Q extends QueueName> = {
  [N in JobName]: (typeof jobCatalog)[N]['queue'] extends Q ? N : never;
}[JobName];

/**
 * The id of a `release-event` job. Heroku sends one event (one event id) to every webhook of the app, so two
 * projects syncing the same app receive the same event id: the id includes the link. BullMQ ids may not hold `:`.
 */
export function releaseEventJobId(options: { eventId: string; linkId: string }): string {
  return `${options.eventId}.${options.linkId}`;
}

/** Parses job data read back from Redis; a job whose data does not match is a permanent failure. */
export function parseJobData<N extends JobName>(name: N, data: unknown): JobData<N> {
  return jobCatalog[name].schema.parse(data) as JobData<N>;
}
