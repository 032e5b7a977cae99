export {
  SIGNATURE_HEADER,
  deriveWebhookSecret,
  signWebhookBody,
  verifyLinkWebhook,
  verifyWebhookSignature,
  type VerifyFailure,
  type VerifyResult,
} from './webhooks/signature.js';
export {
  knownReleaseStatus,
  parseWebhookBody,
  releaseEventSchema,
  releaseStatuses,
  webhookEnvelopeSchema,
  type ParsedWebhook,
  type ReleaseEvent,
  type ReleaseStatus,
  type WebhookEnvelope,
} from './webhooks/events.js';
