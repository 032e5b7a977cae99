import { envFields, loadEnv, strongSecrets, type SecretFields } from '@hds/core';
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
  /** How often the reconciler looks for links due for a check. */
  RECONCILE_TICK_MS: ms(30_000),
  /** Share of each account's hourly Heroku budget the reconciler may spend. */
  RECONCILE_BUDGET_SHARE: z.coerce.number().gt(0).max(1).default(0.1),
  RECONCILE_MIN_INTERVAL_MS: ms(60_000),
  /** After a 429 without Retry-After, how long an account's work waits (±25%). */
  RATE_LIMIT_BACKOFF_MS: ms(30_000),
  HEROKU_TIMEOUT_MS: ms(10_000),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
  LOCAL_DEVELOPMENT: envFields.localDevelopment,
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
