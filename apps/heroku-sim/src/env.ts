import { envFields, loadEnv } from '@hds/core';
import { z } from 'zod';

export const SimEnv = z
  .object({
    PORT: envFields.port(5000),
    LOG_LEVEL: envFields.logLevel,
    LOG_FORMAT: envFields.logFormat,
    /** How the browser reaches the sim (links on the OAuth authorize page). */
    SIM_PUBLIC_URL: envFields.httpUrl.optional(),
    /** An OAuth client the sim accepts ("Sign in with Heroku" of the admin app). */
    SIM_OAUTH_CLIENT_ID: z.string().optional(),
    SIM_OAUTH_CLIENT_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
    /** Where approval redirects; without it the authorize request's `redirect_uri` is used. */
    SIM_OAUTH_REDIRECT_URI: envFields.httpUrl.optional(),
    /** An account created at start, with a fixed API key, owning `SIM_SEED_APPS` (each with Heroku Postgres). */
    SIM_SEED_EMAIL: z.email({ error: 'must be an e-mail address' }).optional(),
    SIM_SEED_API_KEY: z.string().min(8, 'must be at least 8 characters').optional(),
    SIM_SEED_APPS: envFields.list('app name').optional(),
    /**
     * A Postgres server (a role with CREATEDB and CREATEROLE) where each app's Heroku Postgres is a real database
     * with a login role of its own. It must check passwords. Without it, URLs name hosts that do not exist.
     */
    SIM_POSTGRES_URL: envFields.databaseUrl.optional(),
    /** What the apps' DATABASE_URLs name (default: SIM_POSTGRES_URL's host and port), e.g. `postgres` in Compose. */
    SIM_POSTGRES_HOST: z
      .string()
      .regex(/^[A-Za-z0-9.:[\]-]+$/, 'must be a host name or address')
      .optional(),
    SIM_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /** Every role and database the sim makes is `<prefix>_…`: the sim owns all such names on that server. */
    SIM_POSTGRES_PREFIX: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,29}$/, 'lowercase letters, digits and _, starting with a letter (at most 30)')
      .default('hsim'),
    /** A Postgres URL where the sim keeps accounts, apps, releases, config vars, webhooks and OAuth grants. */
    SIM_STATE_URL: envFields.databaseUrl.optional(),
  })
  .superRefine((env, issue) => {
    if ((env.SIM_OAUTH_CLIENT_ID === undefined) !== (env.SIM_OAUTH_CLIENT_SECRET === undefined)) {
      issue.addIssue({
        code: 'custom',
        path: ['SIM_OAUTH_CLIENT_SECRET'],
        message: 'SIM_OAUTH_CLIENT_ID and SIM_OAUTH_CLIENT_SECRET go together',
      });
    }
    if (env.SIM_POSTGRES_URL === undefined) {
      for (const name of ['SIM_POSTGRES_HOST', 'SIM_POSTGRES_PORT'] as const) {
        if (env[name] !== undefined)
          issue.addIssue({ code: 'custom', path: [name], message: 'needs SIM_POSTGRES_URL' });
      }
    }
    if (env.SIM_SEED_EMAIL === undefined && (env.SIM_SEED_API_KEY !== undefined || env.SIM_SEED_APPS !== undefined)) {
      issue.addIssue({
        code: 'custom',
        path: ['SIM_SEED_EMAIL'],
        message: 'is needed for SIM_SEED_API_KEY and SIM_SEED_APPS',
      });
    }
  });
export type SimEnv = z.infer<typeof SimEnv>;

export const loadSimEnv = (source: Record<string, string | undefined> = process.env): SimEnv =>
  loadEnv('heroku-sim', SimEnv, source);
