import { isHerokuApiError } from '@hds/heroku';
import { assertNever, RateLimitedError, SyncError, type SyncErrorCode } from '@hds/sync';

/** The domain's codes (a code added there and not here fails to compile). */
const syncErrorCodes: Record<SyncErrorCode, true> = {
  not_found: true,
  invalid: true,
  app_not_visible: true,
  heroku_unavailable: true,
  heroku_refused: true,
  conflict: true,
};

/** Codes the API answers with: the domain's `SyncErrorCode`s and the API's own. */
export const apiErrorCodes = [
  ...(Object.keys(syncErrorCodes) as SyncErrorCode[]),
  'invalid_json',
  'invalid_input',
  'unauthorized',
  'forbidden',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'queue_unavailable',
  'internal',
] as const;
export type ApiErrorCode = (typeof apiErrorCodes)[number];

/** An error with the status and `{error: {code, message}}` the client sees. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The one place a domain error code becomes an HTTP status. */
export function statusForSyncError(code: SyncErrorCode): number {
  switch (code) {
    case 'not_found':
      return 404;
    case 'invalid': // the input was well-formed but cannot be used (e.g. Heroku refused the API key)
    case 'app_not_visible':
    case 'heroku_refused':
      return 422;
    case 'heroku_unavailable':
      return 503;
    case 'conflict':
      return 409;
    default:
      return assertNever(code);
  }
}

/** Errors of express's body parser carry `type`, `status` and `expose`. */
function bodyParserError(err: unknown): ApiError | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err) || !('status' in err)) return undefined;
  const { type, status } = err;
  if (typeof type !== 'string' || typeof status !== 'number') return undefined;
  if (type === 'entity.parse.failed') return new ApiError(400, 'invalid_json', 'the request body is not valid JSON');
  if (type === 'entity.too.large') return new ApiError(413, 'payload_too_large', 'the request body is too large');
  if (type === 'charset.unsupported' || type === 'encoding.unsupported')
    return new ApiError(415, 'unsupported_media_type', 'unsupported body encoding; send UTF-8 JSON');
  if (status >= 400 && status < 500) return new ApiError(400, 'invalid_input', 'the request body could not be read');
  return undefined;
}

/** Express's router refuses a path parameter it cannot percent-decode (`/api/projects/%ZZ`): a `URIError` with 400. */
function undecodablePath(err: unknown): boolean {
  return err instanceof URIError && (err as { status?: unknown }).status === 400;
}

/** Postgres refused a write that raced another one (a unique constraint). The client may simply retry. */
function uniqueViolation(err: unknown): boolean {
  for (let cause = err, depth = 0; cause && depth < 4; cause = (cause as { cause?: unknown }).cause, depth += 1) {
    if ((cause as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/**
 * Maps anything a handler throws to what the client sees. Unknown errors become a 500 without details:
 * never a stack trace, never a message that might hold a secret.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof SyncError) return new ApiError(statusForSyncError(err.code), err.code, err.message);
  if (err instanceof RateLimitedError) {
    const seconds = Math.max(1, Math.ceil((err.retryAt.getTime() - Date.now()) / 1000));
    return new ApiError(503, 'rate_limited', `Heroku's rate limit for this account is spent; retry in ${seconds} s`, {
      'retry-after': String(seconds),
    });
  }
  if (isHerokuApiError(err)) {
    if (err.kind === 'rate_limited') {
      const seconds = Math.max(1, Math.ceil((err.retryAfterMs ?? 30_000) / 1000));
      return new ApiError(503, 'rate_limited', "Heroku's rate limit for this account is spent", {
        'retry-after': String(seconds),
      });
    }
    if (err.transient) return new ApiError(503, 'heroku_unavailable', 'Heroku did not answer; try again');
    if (err.kind === 'unauthorized')
      return new ApiError(422, 'heroku_refused', 'Heroku no longer accepts this account; sign in with Heroku again');
    return new ApiError(422, 'heroku_refused', `Heroku refused: ${err.herokuMessage ?? err.kind}`);
  }
  const parser = bodyParserError(err);
  if (parser) return parser;
  if (undecodablePath(err)) return new ApiError(400, 'invalid_input', 'the request path is not valid percent-encoding');
  if (uniqueViolation(err))
    return new ApiError(409, 'conflict', 'the resource was changed by a concurrent request; try again');
  return new ApiError(500, 'internal', 'internal error');
}
