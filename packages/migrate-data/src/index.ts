export { MigrationService, toMigrationView, type MigrationView } from './service.js';
export { defaultRunSettings, type MigrationProgress, type RunSettings } from './run-migration.js';
export { libpqEnv, withoutMetaCommands } from './pg-dump.js';
export { targetAddressCheck } from './target-address.js';
