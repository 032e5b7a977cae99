import { envFields, loadEnv, strongSecrets, type SecretFields } from '@hds/core';
import { z } from 'zod';

/** The secrets the admin holds (rules: `strongSecrets`). */
export const adminSecrets: SecretFields = { lists: ['WEBHOOK_SIGNING_KEYS'], tokens: ['ADMIN_TOKEN'] };

export const AdminEnv = z
  .object({
    DATABASE_URL: envFields.databaseUrl,
    REDIS_URL: envFields.redisUrl,
    HEROKU_API_URL: envFields.httpUrl.default('https://api.heroku.com'),
    /** Token exchange and refresh (server to server). */
    HEROKU_OAUTH_URL: envFields.httpUrl.default('https://id.heroku.com'),
    /** Where the browser is sent to authorize; defaults to HEROKU_OAUTH_URL (differs under docker compose). */
    HEROKU_OAUTH_BROWSER_URL: envFields.httpUrl.optional(),
    HEROKU_OAUTH_CLIENT_ID: z.string().optional(),
    HEROKU_OAUTH_CLIENT_SECRET: z.string().optional(),
    PUBLIC_WEBHOOK_BASE_URL: envFields.httpUrl,
    WEBHOOK_SIGNING_KEYS: envFields.list('signing key'),
    ENCRYPTION_KEYS: envFields.list('encryption key'),
    ADMIN_TOKEN: z.string().min(12, 'must be at least 12 characters'),
    /** The admin's public base URL: the OAuth redirect URI is `${ADMIN_PUBLIC_URL}/auth/heroku/callback`. */
    ADMIN_PUBLIC_URL: envFields.httpUrl.optional(),
    PORT: envFields.port(3001),
    LOG_LEVEL: envFields.logLevel,
    LOG_FORMAT: envFields.logFormat,
    QUEUE_PREFIX: envFields.queuePrefix,
    HEROKU_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
    LOCAL_DEVELOPMENT: envFields.localDevelopment,
    /** As the worker's: a destination URL is checked at creation too (a refused one is a 422). */
    DESTINATIONS_ALLOW_PRIVATE: z.stringbool().default(false),
    DESTINATIONS_ALLOWED_HOSTS: z.string().default(''),
    /** The pg_dump binary the migration checks run (it must read the source server's major version). */
    PG_DUMP_PATH: z.string().min(1).default('pg_dump'),
    /** As the worker's: a file destination's path is checked under it at creation (a refused one is a 422). */
    FILE_DESTINATIONS_ROOT: z.string().min(1).optional(),
  })
  .check(strongSecrets(adminSecrets))
  .refine((env) => (env.HEROKU_OAUTH_CLIENT_ID === undefined) === (env.HEROKU_OAUTH_CLIENT_SECRET === undefined), {
    path: ['HEROKU_OAUTH_CLIENT_SECRET'],
    message: 'HEROKU_OAUTH_CLIENT_ID and HEROKU_OAUTH_CLIENT_SECRET are set together or not at all',
  })
  .transform((env) => ({
    ...env,
    ADMIN_PUBLIC_URL: (env.ADMIN_PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    HEROKU_OAUTH_BROWSER_URL: env.HEROKU_OAUTH_BROWSER_URL ?? env.HEROKU_OAUTH_URL,
  }));
export type AdminEnv = z.infer<typeof AdminEnv>;

export const loadAdminEnv = (source: Record<string, string | undefined> = process.env): AdminEnv =>
  loadEnv('admin', AdminEnv, source);
