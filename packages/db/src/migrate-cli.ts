import { createLogger, envFields, loadEnv } from '@hds/core';
import { z } from 'zod';
import { runMigrations } from './migrate.js';

const env = loadEnv(
  'db:migrate',
  z.object({ DATABASE_URL: envFields.databaseUrl, LOG_LEVEL: envFields.logLevel }),
  process.env,
);
const logger = createLogger({ app: 'migrate', level: env.LOG_LEVEL });

try {
  const { applied } = await runMigrations({ databaseUrl: env.DATABASE_URL });
  logger.info({ applied }, applied === 0 ? 'schema is up to date' : `applied ${applied} migration(s)`);
} catch (err) {
  logger.error({ err }, 'migration failed');
  process.exitCode = 1;
}
