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
