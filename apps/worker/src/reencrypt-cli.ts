// `npm run keys:reencrypt`: after prepending a new key to ENCRYPTION_KEYS (and deploying it), re-encrypts every
// stored credential under it; then the old key can be removed from ENCRYPTION_KEYS.
import { createLogger, Keyring } from '@hds/core';
import { createDb } from '@hds/db';
import { reencryptCredentials } from '@hds/sync';
import { loadReencryptEnv } from './env.js';

const env = loadReencryptEnv();
const logger = createLogger({ app: 'keys:reencrypt', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
const database = createDb({ url: env.DATABASE_URL, max: 2, applicationName: 'hds-reencrypt' });
try {
  const result = await reencryptCredentials({
    db: database.db,
    keyring: Keyring.fromSpecs(env.ENCRYPTION_KEYS),
    logger,
  });
  logger.info(result, 'done');
} catch (err) {
  logger.error({ err }, 're-encryption failed');
  process.exitCode = 1;
} finally {
  await database.close();
}
