export * from './outbound/index.js';
export {
  DestinationConfigError,
  type DeliverInput,
  type DeliveryOutcome,
  type DeliveryPayload,
  type DeliveryResult,
  type DestinationKind,
  type PrepareContext,
  type PreparedDestination,
} from './kinds/kind.js';
export { createWebhookKind, generateWebhookSecret } from './kinds/webhook.js';
export {
  DeliveryEngine,
  type DeliveryEngineOptions,
  type DeliveryHooks,
  type ProcessResult,
} from './delivery/engine.js';
export { startRelay, DELIVERIES_CHANNEL, type Relay, type RelayOptions } from './delivery/relay.js';
export { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from './delivery/retry-schedule.js';
export { DestinationsService, type DeliveryView, type DestinationView } from './service.js';
export { createDeliveries, createDestinationKinds, type DestinationKinds } from './delivery/create.js';
export {
  createHasuraKind,
  type HasuraConfig,
  type HasuraCreateInput,
  type HasuraSecrets,
} from './kinds/hasura/hasura-kind.js';
export { DEFAULT_ROTATION_LIMITS, type RotationLimits } from './kinds/hasura/rotate-source.js';
export { createFileKind, type FileConfig, type FileCreateInput } from './kinds/file/file-kind.js';
export { FILE_FORMATS, type FileFormat } from './kinds/file/formats.js';
