import { createLogger, createMetricsRegistry, onShutdown, secretWarnings } from '@hds/core';
import { createIngressApp } from './app.js';
import { ingressSecrets, loadIngressEnv } from './env.js';
import { connectQueue } from './queue.js';
import { serveIngress } from './server.js';

const env = loadIngressEnv();
const logger = createLogger({ app: 'ingress', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
for (const warning of secretWarnings({ env, fields: ingressSecrets })) logger.warn(warning);
const queue = connectQueue({ redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX, logger });

const app = createIngressApp({
  producer: queue.producer,
  signingKeys: env.WEBHOOK_SIGNING_KEYS,
  logger,
  registry: createMetricsRegistry('ingress'),
  queueIsUp: queue.isUp,
  readinessChecks: { redis: queue.ping },
});

const server = await serveIngress({ app, port: env.PORT, requestTimeoutMs: env.REQUEST_TIMEOUT_MS });
logger.info({ port: server.port }, 'ingress listening');
// Stop accepting and let in-flight deliveries finish (each waits at most the enqueue timeout), then close Redis.
onShutdown({
  logger,
  closers: [
    () => {
      const drained = server.close();
      logger.info('stopped accepting connections; finishing requests in flight');
      return drained;
    },
    () => queue.close(),
  ],
});
