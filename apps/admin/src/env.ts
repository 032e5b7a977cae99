import { envFields, loadEnv } from '@hds/core';
import { z } from 'zod';

export const AdminEnv = z.object({
  DATABASE_URL: envFields.databaseUrl,
  REDIS_URL: envFields.redisUrl,
  HEROKU_API_URL: envFields.httpUrl.default('https://api.heroku.com'),
  HEROKU_OAUTH_URL: envFields.httpUrl.default('https://id.heroku.com'),
  HEROKU_OAUTH_CLIENT_ID: z.string().optional(),
  HEROKU_OAUTH_CLIENT_SECRET: z.string().optional(),
  PUBLIC_WEBHOOK_BASE_URL: envFields.httpUrl,
  WEBHOOK_SIGNING_KEYS: envFields.list('signing key'),
  ENCRYPTION_KEYS: envFields.list('encryption key'),
  ADMIN_TOKEN: z.string().min(12, 'must be at least 12 characters'),
  PORT: envFields.port(3001),
  LOG_LEVEL: envFields.logLevel,
  LOG_FORMAT: envFields.logFormat,
  QUEUE_PREFIX: envFields.queuePrefix,
});
export type AdminEnv = z.infer<typeof AdminEnv>;

export const loadAdminEnv = (source: Record<string, string | undefined> = process.env): AdminEnv =>
  loadEnv('admin', AdminEnv, source);
