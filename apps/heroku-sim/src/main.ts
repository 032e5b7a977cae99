import { createLogger, createMetricsRegistry, createOpsRoutes, listen, onShutdown } from '@hds/core';
import express from 'express';
import { loadSimEnv } from './env.js';
import { startHerokuSim, type HerokuSim } from './sim.js';
import { standaloneOptions } from './standalone.js';
import { SimStartupError } from './support/startup-error.js';

const env = loadSimEnv();
const logger = createLogger({ app: 'heroku-sim', level: env.LOG_LEVEL, format: env.LOG_FORMAT });

let sim: HerokuSim;
try {
  sim = await startHerokuSim(standaloneOptions(env, logger));
} catch (err) {
  // Never serve made-up URLs or forget state silently: a server the sim cannot use stops it, saying which.
  if (!(err instanceof SimStartupError)) throw err;
  logger.fatal({ variable: err.variable }, err.message);
  process.stderr.write(`heroku-sim: cannot start\n  - ${err.message}\n`);
  process.exit(1);
}

const app = express();
app.disable('x-powered-by');
app.use(createOpsRoutes({ registry: createMetricsRegistry('heroku-sim'), checks: sim.readinessChecks }));
app.use(sim.handler);

const server = await listen(app, { port: env.PORT });
logger.info(
  {
    port: server.port,
    accounts: sim.accounts().length,
    oauthClients: env.SIM_OAUTH_CLIENT_ID ? 1 : 0,
    databases: sim.realDatabases ? 'real' : 'made-up',
    state: sim.keepsState ? 'postgres' : 'memory',
  },
  'heroku-sim listening',
);
onShutdown({ logger, closers: [() => server.close(), () => sim.close()] });
