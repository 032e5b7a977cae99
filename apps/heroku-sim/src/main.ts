import { createLogger, createMetricsRegistry, createOpsRoutes, listen, onShutdown } from '@hds/core';
import express from 'express';
import { loadSimEnv } from './env.js';

const env = loadSimEnv();
const logger = createLogger({ app: 'heroku-sim', level: env.LOG_LEVEL, format: env.LOG_FORMAT });

const app = express();
app.disable('x-powered-by');
app.use(createOpsRoutes({ registry: createMetricsRegistry('heroku-sim'), checks: {} }));

const server = await listen(app, { port: env.PORT });
logger.info({ port: server.port }, 'heroku-sim listening');
onShutdown({ logger, closers: [() => server.close()] });
