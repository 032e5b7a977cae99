import type { Logger } from '@hds/core';
import type { SimEnv } from './env.js';
import { DEFAULT_RETRY_SCHEDULE_MS, type HerokuSimOptions } from './sim.js';

/** The options of the standalone sim (`npm run start:heroku-sim`) from its environment. */
export function standaloneOptions(env: SimEnv, logger: Logger): HerokuSimOptions {
  const options: HerokuSimOptions = { logger, retryScheduleMs: DEFAULT_RETRY_SCHEDULE_MS };
  if (env.SIM_PUBLIC_URL !== undefined) options.publicUrl = env.SIM_PUBLIC_URL;
  if (env.SIM_OAUTH_CLIENT_ID !== undefined && env.SIM_OAUTH_CLIENT_SECRET !== undefined) {
    options.oauthClients = [
      {
        id: env.SIM_OAUTH_CLIENT_ID,
        secret: env.SIM_OAUTH_CLIENT_SECRET,
        name: 'heroku-db-sync (local)',
        ...(env.SIM_OAUTH_REDIRECT_URI !== undefined ? { redirectUri: env.SIM_OAUTH_REDIRECT_URI } : {}),
      },
    ];
  }
  if (env.SIM_SEED_EMAIL !== undefined) {
    options.preload = {
      email: env.SIM_SEED_EMAIL,
      ...(env.SIM_SEED_API_KEY !== undefined ? { apiKey: env.SIM_SEED_API_KEY } : {}),
      apps: env.SIM_SEED_APPS ?? [],
    };
  }
  if (env.SIM_POSTGRES_URL !== undefined) {
    options.postgres = {
      adminUrl: env.SIM_POSTGRES_URL,
      prefix: env.SIM_POSTGRES_PREFIX,
      ...(env.SIM_POSTGRES_HOST !== undefined ? { host: env.SIM_POSTGRES_HOST } : {}),
      ...(env.SIM_POSTGRES_PORT !== undefined ? { port: env.SIM_POSTGRES_PORT } : {}),
    };
  }
  if (env.SIM_STATE_URL !== undefined) options.stateUrl = env.SIM_STATE_URL;
  return options;
}
