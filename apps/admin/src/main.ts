import { createLogger, createMetricsRegistry, createOpsRoutes, listen, onShutdown } from '@hds/core';
import { createDb, pingDb } from '@hds/db';
import { createRedis, pingRedis } from '@hds/queue';
import express from 'express';
import { loadAdminEnv } from './env.js';

const env = loadAdminEnv();
const logger = createLogger({ app: 'admin', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
const redis = createRedis(env.REDIS_URL, { role: 'producer', name: 'hds-admin' });
redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
const database = createDb({ url: env.DATABASE_URL, applicationName: 'hds-admin' });

const app = express();
app.disable('x-powered-by');
app.use(
  createOpsRoutes({
    registry: createMetricsRegistry('admin'),
    checks: { redis: () => pingRedis(redis), postgres: () => pingDb(database.sql) },
  }),
);

const server = await listen(app, { port: env.PORT });
logger.info({ port: server.port }, 'admin listening');
onShutdown({ logger, closers: [() => server.close(), () => redis.quit(), () => database.close()] });
