export { SyncService, type ProjectView } from './service.js';
export {
  createContext,
  defaultSyncOptions,
  type SyncContext,
  type SyncDeps,
  type SyncHooks,
  type SyncOptions,
  type SweepStats,
} from './context.js';
export { SyncError, RateLimitedError, assertNever, type SyncErrorCode } from './errors.js';
export { AccountCredentials, type AccountView } from './accounts.js';
export { type AuditEntry, type AuditActor, type AuditAction } from './audit.js';
export { envVarContext, type EnvVarView } from './env-vars.js';
export { type SyncStatus } from './links.js';
export { DEFAULT_MAPPINGS, mappingsInputSchema, parseMappings, formatMappings, mapConfig } from './mappings.js';
export { type ReleaseEventJob, type ReleaseEventResult } from './release-events.js';
export { type ReconcileReason, type ReconcileResult, CALLS_PER_RECONCILE } from './reconcile.js';
export { type SweepResult } from './sweep.js';
export { webhookUrl, webhookSecret } from './webhooks.js';
export { reencryptCredentials } from './key-rotation.js';
export { cutOverDatabase, databaseMapping, DATABASE_CONFIG_VAR } from './cutover.js';
export { type LinkRow, findLinkByProject } from './links.js';
export { appendAudit } from './audit.js';
