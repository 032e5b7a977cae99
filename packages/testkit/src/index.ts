export {
  databaseUrl,
  testEncryptionKeys,
  testSecret,
  testServices,
  testWebhookSigningKeys,
  uniqueName,
} from './config.js';
export { createTestDatabase, prepareTemplateDatabase, type TestDatabase } from './database.js';
export { createTestRedis, deleteKeysWithPrefix, type TestRedis } from './redis.js';
export { freePort, startRedisServer, type RedisServer } from './redis-server.js';
export { waitForLockWaiters } from './lock-waiters.js';
export { waitFor } from './wait.js';
export {
  repoRoot,
  sharedHasuraExamplesDir,
  sharedHerokuDir,
  sharedWebhookBodies,
  sharedWebhookBody,
} from './shared.js';
export {
  runSourceEntrypoint,
  startBuiltProcess,
  startProcess,
  startSourceProcess,
  type OutputStream,
  type ProcessResult,
  type RunningProcess,
  type StartProcessOptions,
} from './process.js';
export {
  startStack,
  stackApps,
  type Stack,
  type StackApp,
  type StackOptions,
  type StackProcess,
  type StackSimDatabases,
} from './stack.js';
export {
  dropSimDatabases,
  postgresClients,
  SESSION_TERMINATED_CODES,
  simPostgresPrefix,
  startSimPostgres,
  type PostgresClients,
} from './sim-postgres.js';
export { assertBuilt } from './stack-build.js';
export { formatLogLine } from './stack-logs.js';
export {
  AdminClient,
  SimClient,
  UnexpectedAnswer,
  type AdminAuditEntry,
  type AdminEnvVar,
  type AdminProject,
  type AdminSyncStatus,
  type HttpAnswer,
  type SimAccount,
  type SimApp,
  type SimDelivery,
  type SimRequest,
  type SimSeedResult,
  type SimWebhook,
} from './stack-clients.js';
export {
  herokuSchemaValidator,
  type HerokuLink,
  type HerokuSchemaValidator,
  type SchemaCheck,
} from './heroku-schema.js';
export {
  deepArrays,
  deepObjects,
  hostileIds,
  hostilePathSegments,
  jsonOfEveryType,
  SAMPLE_UUID,
  sqlLookingValues,
  type HostileValue,
} from './hostile-corpus.js';
export { sendHttp, sendRawBytes, type RawAnswer } from './raw-http.js';
export { dumpRedisKeys, dumpTables, type ExcludedColumn, type RedisEntry } from './state-snapshot.js';
export {
  postgresBinDir,
  startPostgresServer,
  type PostgresAuth,
  type PostgresServer,
  type ShutdownMode,
} from './postgres-server.js';
export { tcpProbe } from './tcp-probe.js';
export { BrowserSession, decideOnHeroku, type BrowserAnswer } from './browser-session.js';
export { chromiumLaunchOptions, screenshotDirectory, type ScreenshotDirectory } from './screenshots.js';
export { RequestGate, type HeldRequest } from './request-gate.js';
export { startWebhookReceiver, type ReceivedWebhook, type ReceiverReply } from './webhook-receiver.js';
export {
  DEFAULT_POOL_SETTINGS,
  hasuraMetadata,
  postgresSource,
  startHasuraStandIn,
  TEST_POOL_SETTINGS,
  type EffectivePoolSettings,
  type HasuraCall,
  type HasuraMetadata,
  type HasuraStandIn,
  type HasuraStandInOptions,
  type SourceMetadata,
} from './hasura-stand-in/index.js';
