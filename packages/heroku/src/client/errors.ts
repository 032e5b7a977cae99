import { scrubSecrets } from '@hds/core';

/** What went wrong, in the terms callers act on. */
export type HerokuErrorKind =
  | 'unauthorized' // 401: refresh the token once, then the link needs re-authorization
  | 'forbidden' // 403: the token lacks access (scope, team permissions)
  | 'not_found' // 404: the app (or webhook) is gone or not visible to this account
  | 'invalid_params' // 422: Heroku refused the request body
  | 'rate_limited' // 429: wait for the account's budget
  | 'server' // 5xx
  | 'network' // no answer: connection refused, reset, DNS
  | 'timeout' // no answer in time
  | 'unexpected'; // an answer we cannot use (bad JSON, other 4xx)

const TRANSIENT: ReadonlySet<HerokuErrorKind> = new Set(['rate_limited', 'server', 'network', 'timeout']);

export interface HerokuErrorDetails {
  kind: HerokuErrorKind;
  method: string;
  /** The route template, e.g. `/apps/{app}/config-vars`: never a token, never a query string. */
  route: string;
  status?: number;
  /** Heroku's error id from the `{id, message}` body, e.g. `not_found`. */
  herokuId?: string;
  herokuMessage?: string;
  requestId?: string;
  rateLimitRemaining?: number;
  /** From `Retry-After`, when Heroku sent one. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** A failed Heroku call. Messages never contain tokens or config values. */
export class HerokuApiError extends Error {
  override name = 'HerokuApiError';
  readonly kind: HerokuErrorKind;
  readonly method: string;
  readonly route: string;
  readonly status: number | undefined;
  readonly herokuId: string | undefined;
  readonly herokuMessage: string | undefined;
  readonly requestId: string | undefined;
  readonly rateLimitRemaining: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(details: HerokuErrorDetails) {
    const what = details.status === undefined ? details.kind : `${details.status} ${details.herokuId ?? details.kind}`;
    const why = details.herokuMessage ?? (details.cause instanceof Error ? details.cause.message : undefined);
    super(scrubSecrets(`Heroku ${details.method} ${details.route} failed: ${what}${why ? `: ${why}` : ''}`), {
      cause: details.cause,
    });
    this.kind = details.kind;
    this.method = details.method;
    this.route = details.route;
    this.status = details.status;
    this.herokuId = details.herokuId;
    this.herokuMessage = details.herokuMessage === undefined ? undefined : scrubSecrets(details.herokuMessage);
    this.requestId = details.requestId;
    this.rateLimitRemaining = details.rateLimitRemaining;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** Worth retrying later: rate limits, 5xx, no answer. Everything else needs a change first. */
  get transient(): boolean {
    return TRANSIENT.has(this.kind);
  }
}

export function kindForStatus(status: number): HerokuErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 422) return 'invalid_params';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server';
  return 'unexpected';
}

export function isHerokuApiError(err: unknown, kind?: HerokuErrorKind): err is HerokuApiError {
  return err instanceof HerokuApiError && (kind === undefined || err.kind === kind);
}
