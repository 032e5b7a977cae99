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
