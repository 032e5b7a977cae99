export * from './schema.js';
export {
  createDb,
  pingDb,
  type Database,
  type DbClient,
  type DbOrTx,
  type Transaction,
  type CreateDbOptions,
} from './client.js';
export { runMigrations, migrationsFolder } from './migrate.js';
export { ensureDatabase } from './ensure-database.js';
