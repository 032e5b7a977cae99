import { envFields, loadEnv, strongSecrets, type SecretFields } from '@hds/core';
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from '@hds/destinations';
import { z } from 'zod';

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** The secrets the worker holds (rules: `strongSecrets`). */
export const workerSecrets: SecretFields = { lists: ['WEBHOOK_SIGNING_KEYS'] };

const WorkerEnvFields = z.object({
  DATABASE_URL: envFields.databaseUrl,
  REDIS_URL: envFields.redisUrl,
  HEROKU_API_URL: envFields.httpUrl.default('https://api.heroku.com'),
  HEROKU_OAUTH_URL: envFields.httpUrl.default('https://id.heroku.com'),
  HEROKU_OAUTH_CLIENT_ID: z.string().optional(),
  HEROKU_OAUTH_CLIENT_SECRET: z.string().optional(),
  PUBLIC_WEBHOOK_BASE_URL: envFields.httpUrl,
  WEBHOOK_SIGNING_KEYS: envFields.list('signing key'),
  ENCRYPTION_KEYS: envFields.list('encryption key'),
  PORT: envFields.port(3002),
  LOG_LEVEL: envFields.logLevel,
  LOG_FORMAT: envFields.logFormat,
  QUEUE_PREFIX: envFields.queuePrefix,
  /** Release events processed at once by this process. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(32),
  /** A job whose worker stops renewing its lock for this long is taken over by another worker. */
  WORKER_LOCK_DURATION_MS: ms(30_000),
  WORKER_STALLED_INTERVAL_MS: ms(30_000),
  /** `sweep`: page through each account's app list; `per-link`: check each link on its own (the former way). */
  RECONCILE_MODE: z.enum(['sweep', 'per-link']).default('sweep'),
  /** How often the reconciler looks for accounts (links) due for a sweep (check). */
  RECONCILE_TICK_MS: ms(2_000),
  /** Share of each account's hourly Heroku budget the reconciler may spend. */
  RECONCILE_BUDGET_SHARE: z.coerce.number().gt(0).max(1).default(0.1),
  /** Never sweep an account (per link: check a link) more often than this. */
  RECONCILE_MIN_INTERVAL_MS: ms(10_000),
  /** Without evidence of a lost delivery, check each link's webhook at most this often (budget permitting). */
  WEBHOOK_CHECK_INTERVAL_MS: ms(86_400_000),
  /** A release the sweep sees whose delivery has not arrived this long after: check the link's webhook. */
  WEBHOOK_GRACE_MS: ms(120_000),
  /** After a 429 without Retry-After, how long an account's work waits (±25%). */
  RATE_LIMIT_BACKOFF_MS: ms(30_000),
  HEROKU_TIMEOUT_MS: ms(10_000),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
  LOCAL_DEVELOPMENT: envFields.localDevelopment,
  /** Destinations may be private, loopback or plain-http targets (local development, tests; never in production). */
  DESTINATIONS_ALLOW_PRIVATE: z.stringbool().default(false),
  /** Host names or CIDRs that destinations may reach although private, and over plain http (`hasura,10.0.0.0/8`). */
  DESTINATIONS_ALLOWED_HOSTS: z.string().default(''),
  /** Seconds before each delivery attempt, comma-separated (Svix's schedule by default). */
  DELIVERY_RETRY_SCHEDULE: z
    .string()
    .default(DEFAULT_RETRY_SCHEDULE)
    .transform((text, ctx) => {
      try {
        return parseRetrySchedule(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** A receiver's answer must come within this long. */
  DELIVERY_TIMEOUT_MS: ms(15_000),
  /** Where file destinations write (their paths are relative to it); unset: no file destinations. */
  FILE_DESTINATIONS_ROOT: z.string().min(1).optional(),
  /** A destination whose every delivery failed for this long is disabled (default 5 days). */
  DESTINATIONS_DISABLE_AFTER_MS: ms(5 * 24 * 3600_000),
  /** Deliveries attempted at once by this process. */
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
  /** How often the relay sweeps the outbox for deliveries the queue never got or lost. */
  DELIVERY_SWEEP_MS: ms(30_000),
  /** Data migrations run at once by this process, and tables each copies at once. */
  MIGRATION_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  MIGRATION_COPY_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  /** The pg_dump binary (it must be at least the source server's major version). */
  PG_DUMP_PATH: z.string().min(1).default('pg_dump'),
});
export const WorkerEnv = WorkerEnvFields.check(strongSecrets(workerSecrets));
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** `npm run keys:reencrypt` needs only the database and the keys. */
export const ReencryptEnv = WorkerEnvFields.pick({
  DATABASE_URL: true,
  ENCRYPTION_KEYS: true,
  LOG_LEVEL: true,
  LOG_FORMAT: true,
});
export const loadReencryptEnv = (source: Record<string, string | undefined> = process.env) =>
  loadEnv('keys:reencrypt', ReencryptEnv, source);

export const loadWorkerEnv = (source: Record<string, string | undefined> = process.env): WorkerEnv =>
  loadEnv('worker', WorkerEnv, source);
