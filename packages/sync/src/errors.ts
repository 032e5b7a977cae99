/** Why a request to the domain was refused; the admin API maps each code to an HTTP status. */
export type SyncErrorCode =
  | 'not_found' // 404: no such project, account or sync
  | 'invalid' // 400/422: the input cannot be used
  | 'app_not_visible' // 422: the Heroku account cannot see that app
  | 'heroku_unavailable' // 503: Heroku did not answer; try again
  | 'conflict' // 409: another change of the same thing is in progress; try again
  | 'heroku_refused'; // 422: Heroku refused (scope, permissions, validation)

export class SyncError extends Error {
  override name = 'SyncError';
  constructor(
    readonly code: SyncErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An account's Heroku budget is spent: nothing should call Heroku for it before `retryAt`. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(
    readonly accountId: string,
    readonly retryAt: Date,
  ) {
    super(`Heroku rate limit reached for account ${accountId}; retry at ${retryAt.toISOString()}`);
  }
}

/** Ends a switch over a union: adding a member without handling it fails to compile. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
