import { createLogger, createMetricsRegistry, createOpsRoutes, listen, onShutdown } from '@hds/core';
import express from 'express';
import { loadSimEnv } from './env.js';
import { createHerokuSim } from './sim.js';
import { standaloneOptions } from './standalone.js';

const env = loadSimEnv();
const logger = createLogger({ app: 'heroku-sim', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
const sim = createHerokuSim(standaloneOptions(env, logger));

const app = express();
app.disable('x-powered-by');
app.use(createOpsRoutes({ registry: createMetricsRegistry('heroku-sim'), checks: {} }));
app.use(sim.handler);

const server = await listen(app, { port: env.PORT });
logger.info(
  { port: server.port, accounts: sim.accounts().length, oauthClients: env.SIM_OAUTH_CLIENT_ID ? 1 : 0 },
  'heroku-sim listening',
);
onShutdown({ logger, closers: [() => server.close(), () => sim.close()] });
