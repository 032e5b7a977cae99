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
  })
  .superRefine((env, issue) => {
    if ((env.SIM_OAUTH_CLIENT_ID === undefined) !== (env.SIM_OAUTH_CLIENT_SECRET === undefined)) {
      issue.addIssue({
        code: 'custom',
        path: ['SIM_OAUTH_CLIENT_SECRET'],
        message: 'SIM_OAUTH_CLIENT_ID and SIM_OAUTH_CLIENT_SECRET go together',
      });
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
