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
   * A verified `api:release` delivery for a link. Job id = `releaseEventJobId` (link, app, release version and status),
   * so redeliveries and the `create`/`update` pair of one release add nothing, while two links of one app each
   * get their job.
   */
  'release-event': {
    queue: queueNames.events,
    schema: z.object({
      // Heroku's ids are any 8-4-4-4-12 hex (no RFC 9562 version bits): `z.guid()`. Ours (links) are strict UUIDs.
      eventId: z.guid(),
      linkId: z.uuid(),
      appId: z.guid(),
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
  /** Sweeps one account's app list and catches up the linked apps that released without a delivery. */
  'reconcile-account': {
    queue: queueNames.reconcile,
    schema: z.object({ accountId: z.uuid() }),
    // One attempt: a failed sweep gives its claim back and the next tick claims the account again.
    options: { attempts: 1, removeOnComplete: { age: DAY_S, count: 1000 }, removeOnFail: { age: 7 * DAY_S } },
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
  /**
   * One delivery to a destination (job id = delivery id). The delivery's state lives in Postgres: the job only
   * wakes its attempts, moving itself to the delayed set between retries; a finished job is removed, so a
   * redelivery can add the same id again.
   */
  deliver: {
    queue: queueNames.deliveries,
    schema: z.object({ deliveryId: z.uuid() }),
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000, jitter: 1 },
      removeOnComplete: true,
      removeOnFail: { age: 3600 },
    },
  },
  /**
   * Copies a project's Heroku Postgres to a target database (packages/migrate-data). Job id = the migration's id.
   * The data is the id only: the target URL is encrypted in the migration's row. A retried or taken-over job resumes
   * from the migration's state, with the table it was on.
   */
  'data-migration': {
    queue: queueNames.migrations,
    schema: z.object({ migrationId: z.uuid() }),
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 10_000, jitter: 0.5 },
      removeOnComplete: { age: 30 * DAY_S, count: 1000 },
      removeOnFail: { age: 30 * DAY_S },
    },
  },
} as const satisfies Record<string, JobDefinition>;

export type JobName = keyof typeof jobCatalog;
export type JobData<N extends JobName> = z.infer<(typeof jobCatalog)[N]['schema']>;

/**
 * The id of a `release-event` job: the link, the app, the release version and its status. Heroku sends `create`
 * and `update` (and redeliveries) for one release; once a (version, status) is queued for a link and app, further
 * deliveries of it add nothing, so the worker sees each release state once. The link is part of the id because
 * Heroku sends one event to every webhook of an app, and two projects may sync one app; the app is, because
 * versions are per app: after a link moves to another app (or an app is re-created under the same name), the new
 * app's v2 is not the old app's v2, whose completed job is kept for days. BullMQ ids may not hold `:`.
 */
export function releaseEventJobId(options: { linkId: string; appId: string; version: number; status: string }): string {
  return `${options.linkId}.${options.appId}.v${options.version}.${options.status}`;
}

/** Parses job data read back from Redis; a job whose data does not match is a permanent failure. */
export function parseJobData<N extends JobName>(name: N, data: unknown): JobData<N> {
  return jobCatalog[name].schema.parse(data) as JobData<N>;
}
