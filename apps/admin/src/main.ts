import { createLogger, createMetricsRegistry, Keyring, listen, onShutdown, secretWarnings } from '@hds/core';
import { createDb, pingDb } from '@hds/db';
import { createDestinationKinds, DestinationsService, parseOutboundPolicy, splitAllowedHosts } from '@hds/destinations';
import { MigrationService, targetAddressCheck } from '@hds/migrate-data';
import { createRedis, JobProducer, pingRedis, redisConnected } from '@hds/queue';
import { SyncService } from '@hds/sync';
import { createAdminApp } from './app.js';
import { redisOAuthStateStore } from './auth/oauth-state.js';
import { listenForProjectChanges } from './console/project-events.js';
import { enqueueMigration, migrationJobAlive } from './jobs.js';
import { adminSecrets, loadAdminEnv } from './env.js';

const env = loadAdminEnv();
const logger = createLogger({ app: 'admin', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
for (const warning of secretWarnings({ env, fields: adminSecrets })) logger.warn(warning);
const redis = createRedis(env.REDIS_URL, { role: 'producer', name: 'hds-admin' });
redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
const database = createDb({ url: env.DATABASE_URL, max: env.DATABASE_POOL_SIZE, applicationName: 'hds-admin' });

const oauthClient =
  env.HEROKU_OAUTH_CLIENT_ID && env.HEROKU_OAUTH_CLIENT_SECRET
    ? { clientId: env.HEROKU_OAUTH_CLIENT_ID, clientSecret: env.HEROKU_OAUTH_CLIENT_SECRET }
    : undefined;

const keyring = Keyring.fromSpecs(env.ENCRYPTION_KEYS);
// The admin sends nothing to destinations; it uses their kinds to check and store a new one.
const deliveryKinds = createDestinationKinds({
  policy: parseOutboundPolicy({
    allowPrivate: env.DESTINATIONS_ALLOW_PRIVATE,
    allowedHosts: splitAllowedHosts(env.DESTINATIONS_ALLOWED_HOSTS),
  }),
  ...(env.FILE_DESTINATIONS_ROOT ? { fileRoot: env.FILE_DESTINATIONS_ROOT } : {}),
});
const destinations = new DestinationsService({ db: database.db, keyring, kinds: deliveryKinds.kinds });

const sync = new SyncService({
  db: database.db,
  keyring,
  logger,
  heroku: {
    apiUrl: env.HEROKU_API_URL,
    timeoutMs: env.HEROKU_TIMEOUT_MS,
    ...(oauthClient ? { oauth: { oauthUrl: env.HEROKU_OAUTH_URL, ...oauthClient } } : {}),
  },
  webhooks: { publicBaseUrl: env.PUBLIC_WEBHOOK_BASE_URL, signingKeys: env.WEBHOOK_SIGNING_KEYS },
});
const producer = new JobProducer({ connection: redis, prefix: env.QUEUE_PREFIX });
// Open project pages follow changes: Postgres notifications, pushed as server-sent events.
const projectEvents = listenForProjectChanges({ sql: database.sql, logger });

const migrations = new MigrationService({
  sync,
  settings: {
    pgDumpBin: env.PG_DUMP_PATH,
    checkTarget: targetAddressCheck({
      policy: parseOutboundPolicy({
        allowPrivate: env.DESTINATIONS_ALLOW_PRIVATE,
        allowedHosts: splitAllowedHosts(env.DESTINATIONS_ALLOWED_HOSTS),
      }),
    }),
  },
  enqueue: (migrationId) => enqueueMigration(producer, migrationId),
  jobAlive: (migrationId) => migrationJobAlive(producer, migrationId),
});

const app = createAdminApp({
  sync,
  destinations,
  migrations,
  producer,
  logger,
  registry: createMetricsRegistry('admin'),
  readinessChecks: { redis: () => pingRedis(redis), postgres: () => pingDb(database.sql) },
  oauthStates: redisOAuthStateStore({ redis, prefix: env.QUEUE_PREFIX }),
  projectEvents,
  config: {
    adminToken: env.ADMIN_TOKEN,
    publicUrl: env.ADMIN_PUBLIC_URL,
    oauth: oauthClient && {
      ...oauthClient,
      oauthUrl: env.HEROKU_OAUTH_URL,
      browserUrl: env.HEROKU_OAUTH_BROWSER_URL,
      timeoutMs: env.HEROKU_TIMEOUT_MS,
    },
  },
});

// Sign-ins keep their state in Redis and the producer client fails commands sent before it connects: serve once it
// has (a console opened right after start-up would otherwise get a 500), or after a while without it (/readyz says).
if (!(await redisConnected(redis, { timeoutMs: 10_000 }))) logger.warn('redis not reachable yet; serving anyway');
const server = await listen(app, { port: env.PORT });
logger.info({ port: server.port, publicUrl: env.ADMIN_PUBLIC_URL }, 'admin listening');
onShutdown({
  logger,
  // Open event streams end first, so the server is not kept waiting by them.
  closers: [
    () => projectEvents.close(),
    () => server.close(),
    () => producer.close(),
    () => deliveryKinds.close(),
    () => redis.quit(),
    () => database.close(),
  ],
});
