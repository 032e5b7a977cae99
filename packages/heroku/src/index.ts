export {
  SIGNATURE_HEADER,
  deriveWebhookSecret,
  signatureHeaderProblem,
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
export { HerokuClient } from './client/client.js';
export { HerokuApiError, isHerokuApiError, type HerokuErrorKind } from './client/errors.js';
export { defaultRetryPolicy, fullJitterDelay, type RetryPolicy } from './client/backoff.js';
export { rangeHeader } from './client/range.js';
export {
  HEROKU_ACCEPT,
  USER_AGENT,
  sharedDispatcher,
  type HerokuAuth,
  type HerokuCallInfo,
  type TransportOptions,
} from './client/transport.js';
export type {
  Account,
  App,
  AppWebhook,
  ConfigVars,
  Release,
  WebhookCreate,
  WebhookLevel,
  WebhookUpdate,
} from './client/resources.js';
export {
  OAUTH_SCOPES,
  buildAuthorizeUrl,
  exchangeOAuthCode,
  refreshOAuthToken,
  type OAuthClientConfig,
  type OAuthTokens,
} from './client/oauth.js';
