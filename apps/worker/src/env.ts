import { envFields, loadEnv } from '@hds/core';
import { z } from 'zod';

export const WorkerEnv = z.object({
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
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

export const loadWorkerEnv = (source: Record<string, string | undefined> = process.env): WorkerEnv =>
  loadEnv('worker', WorkerEnv, source);
