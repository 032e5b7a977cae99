import { createLogger, createMetricsRegistry, createOpsRoutes, listen, onShutdown } from '@hds/core';
import { createDb, pingDb } from '@hds/db';
import { createRedis, pingRedis } from '@hds/queue';
import express from 'express';
import { loadWorkerEnv } from './env.js';

const env = loadWorkerEnv();
const logger = createLogger({ app: 'worker', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
const redis = createRedis(env.REDIS_URL, { role: 'worker', name: 'hds-worker' });
redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
const database = createDb({ url: env.DATABASE_URL, applicationName: 'hds-worker' });

const app = express();
app.disable('x-powered-by');
app.use(
  createOpsRoutes({
    registry: createMetricsRegistry('worker'),
    checks: { redis: () => pingRedis(redis), postgres: () => pingDb(database.sql) },
  }),
);

const server = await listen(app, { port: env.PORT });
logger.info({ port: server.port }, 'worker listening');
onShutdown({ logger, closers: [() => server.close(), () => redis.quit(), () => database.close()] });
