import {
  createLogger,
  createMetricsRegistry,
  createOpsRoutes,
  Keyring,
  listen,
  onShutdown,
  secretWarnings,
} from '@hds/core';
import { createDb, pingDb } from '@hds/db';
import { createDeliveries, parseOutboundPolicy, splitAllowedHosts } from '@hds/destinations';
import { createRedis, pingRedis } from '@hds/queue';
import { MigrationService, targetAddressCheck } from '@hds/migrate-data';
import { SyncService } from '@hds/sync';
import express from 'express';
import { workerSecrets, loadWorkerEnv } from './env.js';
import { createWorkerMetrics } from './metrics.js';
import { startWorkerRuntime } from './runtime.js';

const env = loadWorkerEnv();
const logger = createLogger({ app: 'worker', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
for (const warning of secretWarnings({ env, fields: workerSecrets })) logger.warn(warning);
const registry = createMetricsRegistry('worker');
const metrics = createWorkerMetrics(registry);

const redis = createRedis(env.REDIS_URL, { role: 'worker', name: 'hds-worker' });
redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
const database = createDb({ url: env.DATABASE_URL, max: env.DATABASE_POOL_SIZE, applicationName: 'hds-worker' });

const keyring = Keyring.fromSpecs(env.ENCRYPTION_KEYS);
const outboundPolicy = parseOutboundPolicy({
  allowPrivate: env.DESTINATIONS_ALLOW_PRIVATE,
  allowedHosts: splitAllowedHosts(env.DESTINATIONS_ALLOWED_HOSTS),
});
const deliveries = createDeliveries({
  db: database.db,
  keyring,
  policy: outboundPolicy,
  scheduleMs: env.DELIVERY_RETRY_SCHEDULE,
  disableAfterMs: env.DESTINATIONS_DISABLE_AFTER_MS,
  timeoutMs: env.DELIVERY_TIMEOUT_MS,
  logger: logger.child({ component: 'deliveries' }),
  hooks: metrics.deliveryHooks,
  ...(env.FILE_DESTINATIONS_ROOT ? { fileRoot: env.FILE_DESTINATIONS_ROOT } : {}),
});

const sync = new SyncService({
  db: database.db,
  keyring,
  logger,
  heroku: {
    apiUrl: env.HEROKU_API_URL,
    timeoutMs: env.HEROKU_TIMEOUT_MS,
    ...(env.HEROKU_OAUTH_CLIENT_ID && env.HEROKU_OAUTH_CLIENT_SECRET
      ? {
          oauth: {
            oauthUrl: env.HEROKU_OAUTH_URL,
            clientId: env.HEROKU_OAUTH_CLIENT_ID,
            clientSecret: env.HEROKU_OAUTH_CLIENT_SECRET,
          },
        }
      : {}),
  },
  webhooks: { publicBaseUrl: env.PUBLIC_WEBHOOK_BASE_URL, signingKeys: env.WEBHOOK_SIGNING_KEYS },
  options: {
    reconcileBudgetShare: env.RECONCILE_BUDGET_SHARE,
    reconcileMinIntervalMs: env.RECONCILE_MIN_INTERVAL_MS,
    webhookCheckIntervalMs: env.WEBHOOK_CHECK_INTERVAL_MS,
    webhookGraceMs: env.WEBHOOK_GRACE_MS,
    rateLimitBackoffMs: env.RATE_LIMIT_BACKOFF_MS,
  },
  hooks: metrics.hooks,
});

const migrations = new MigrationService({
  sync,
  settings: {
    pgDumpBin: env.PG_DUMP_PATH,
    copyConcurrency: env.MIGRATION_COPY_CONCURRENCY,
    checkTarget: targetAddressCheck({
      policy: parseOutboundPolicy({
        allowPrivate: env.DESTINATIONS_ALLOW_PRIVATE,
        allowedHosts: splitAllowedHosts(env.DESTINATIONS_ALLOWED_HOSTS),
      }),
    }),
  },
});

const runtime = await startWorkerRuntime({
  sync,
  migrations,
  migrationConcurrency: env.MIGRATION_CONCURRENCY,
  redis,
  prefix: env.QUEUE_PREFIX,
  logger,
  metrics,
  concurrency: env.WORKER_CONCURRENCY,
  lockDurationMs: env.WORKER_LOCK_DURATION_MS,
  stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
  reconcileTickMs: env.RECONCILE_TICK_MS,
  deliveries: deliveries.engine,
  deliveryConcurrency: env.DELIVERY_CONCURRENCY,
  relay: { db: database.db, listenSql: database.sql, sweepIntervalMs: env.DELIVERY_SWEEP_MS },
  reconcileMode: env.RECONCILE_MODE,
});

const app = express();
app.disable('x-powered-by');
app.use(
  createOpsRoutes({
    registry,
    checks: { redis: () => pingRedis(redis), postgres: () => pingDb(database.sql) },
  }),
);
const server = await listen(app, { port: env.PORT });
logger.info({ port: server.port }, 'worker listening');

onShutdown({
  logger,
  closers: [
    () => runtime.close(),
    () => server.close(),
    () => deliveries.close(),
    () => redis.quit(),
    () => database.close(),
  ],
});
