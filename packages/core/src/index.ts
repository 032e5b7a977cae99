export {
  envFields,
  loadEnv,
  parseEnv,
  secretWarnings,
  strongSecrets,
  type EnvResult,
  type SecretFields,
} from './env.js';
export { createLogger, redactedLogPaths, type CreateLoggerOptions, type Logger } from './logger.js';
export { Keyring, KeyringError, parseKeySpecs, type KeyringKey } from './secrets/keyring.js';
export { redactValue, scrubSecrets } from './secrets/redact.js';
export {
  createMetricsRegistry,
  createOpsRoutes,
  type OpsRoutesOptions,
  type ReadinessCheck,
} from './http/ops-routes.js';
export { listen, type RequestTimeouts, type RunningServer } from './http/serve.js';
export { onShutdown, type Closer } from './shutdown.js';
