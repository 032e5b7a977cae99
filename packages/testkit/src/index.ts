export { databaseUrl, testEncryptionKeys, testServices, testWebhookSigningKeys, uniqueName } from './config.js';
export { createTestDatabase, prepareTemplateDatabase, type TestDatabase } from './database.js';
export { createTestRedis, deleteKeysWithPrefix, type TestRedis } from './redis.js';
export { freePort, startRedisServer, type RedisServer } from './redis-server.js';
export { waitFor } from './wait.js';
export { repoRoot, sharedHerokuDir, sharedWebhookBodies, sharedWebhookBody } from './shared.js';
export { runSourceEntrypoint, startSourceProcess, type ProcessResult, type RunningProcess } from './process.js';
export {
  herokuSchemaValidator,
  type HerokuLink,
  type HerokuSchemaValidator,
  type SchemaCheck,
} from './heroku-schema.js';
