import { createLogger, createMetricsRegistry, createOpsRoutes, listen, onShutdown } from '@hds/core';
import { createRedis, pingRedis } from '@hds/queue';
import express from 'express';
import { loadIngressEnv } from './env.js';

const env = loadIngressEnv();
const logger = createLogger({ app: 'ingress', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
const redis = createRedis(env.REDIS_URL, { role: 'producer', name: 'hds-ingress' });
redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));

const app = express();
app.disable('x-powered-by');
app.use(createOpsRoutes({ registry: createMetricsRegistry('ingress'), checks: { redis: () => pingRedis(redis) } }));

const server = await listen(app, { port: env.PORT });
logger.info({ port: server.port }, 'ingress listening');
onShutdown({ logger, closers: [() => server.close(), () => redis.quit()] });
