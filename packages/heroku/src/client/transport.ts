import { Agent, request, type Dispatcher } from 'undici';
import { defaultRetryPolicy, fullJitterDelay, type RetryPolicy } from './backoff.js';
import { HerokuApiError, kindForStatus, type HerokuErrorKind } from './errors.js';

export const HEROKU_ACCEPT = 'application/vnd.heroku+json; version=3';
export const USER_AGENT = 'heroku-db-sync/0.1 (+https://github.com/heroku-db-sync)';

/** How the client authenticates: a token, and optionally a way to get a fresh one after a 401. */
export interface HerokuAuth {
  token(): string | Promise<string>;
  /**
   * Called at most once per call after a 401, with the token Heroku refused; returns the token to use instead,
   * or undefined if none can be had.
   */
  refresh?(refused: string): Promise<string | undefined>;
}

/** One answered (or unanswered) call, for metrics. `status` is 0 when no answer came. */
export interface HerokuCallInfo {
  method: string;
  route: string;
  status: number;
  durationMs: number;
  rateLimitRemaining: number | undefined;
}

export interface TransportOptions {
  baseUrl: string;
  auth: HerokuAuth;
  /** Per-attempt timeout, covering connect, headers and body. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** Share one keep-alive pool between clients. */
  dispatcher?: Dispatcher;
  onCall?: (info: HerokuCallInfo) => void;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  userAgent?: string;
}

export interface CallOptions {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The concrete path, e.g. `/apps/my-app/config-vars`. */
  path: string;
  /** The route template for errors and metrics, e.g. `/apps/{app}/config-vars`. */
  route: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
  rateLimitRemaining: number | undefined;
}

let sharedAgent: Agent | undefined;
/** A keep-alive pool shared by every client in the process unless one is passed in. */
export function sharedDispatcher(): Agent {
  sharedAgent ??= new Agent({ keepAliveTimeout: 10_000, connections: 128 });
  return sharedAgent;
}

function header(headers: RawResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Errors thrown by undici or the abort signal, classified. */
function classifyFailure(err: unknown): { kind: HerokuErrorKind; connectFailed: boolean } {
  const code = (err as { code?: string }).code ?? '';
  const name = (err as { name?: string }).name ?? '';
  if (name === 'TimeoutError' || name === 'AbortError' || code.includes('TIMEOUT')) {
    return { kind: 'timeout', connectFailed: code === 'UND_ERR_CONNECT_TIMEOUT' };
  }
  return { kind: 'network', connectFailed: code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' };
}

/**
 * The HTTP layer of the Heroku client: auth, timeouts, retries with full-jitter backoff for network errors,
 * timeouts and 5xx (a POST only when the request surely did not take effect: connection refused or a 5xx),
 * one token refresh after a 401, and typed errors. 429 is not retried here: it belongs to the caller, who
 * knows whose budget it is.
 */
export class HerokuTransport {
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly dispatcher: Dispatcher;
  readonly baseUrl: string;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retry = options.retry ?? defaultRetryPolicy;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.dispatcher = options.dispatcher ?? sharedDispatcher();
  }

  async call(call: CallOptions): Promise<RawResponse> {
    let token = await this.options.auth.token();
    let refreshed = false;
    for (let attempt = 1; ; attempt += 1) {
      let response: RawResponse;
      try {
        response = await this.once(call, token);
      } catch (err) {
        if (!(err instanceof HerokuApiError) || (err.kind !== 'network' && err.kind !== 'timeout')) throw err;
        const failure = err.cause === undefined ? undefined : classifyFailure(err.cause);
        const retryable = call.method !== 'POST' || failure?.connectFailed === true;
        if (retryable && attempt < this.retry.attempts) {
          await this.sleep(fullJitterDelay({ retry: attempt - 1, policy: this.retry, random: this.random }));
          continue;
        }
        throw err;
      }
      if (response.status < 400) return response;
      if (response.status === 401 && !refreshed && this.options.auth.refresh) {
        refreshed = true;
        const fresh = await this.options.auth.refresh(token);
        if (fresh !== undefined) {
          token = fresh;
          attempt -= 1; // a refresh is not a retry
          continue;
        }
      }
      const error = this.errorFor(call, response);
      if (error.kind === 'server' && attempt < this.retry.attempts) {
        await this.sleep(fullJitterDelay({ retry: attempt - 1, policy: this.retry, random: this.random }));
        continue;
      }
      throw error;
    }
  }

  private async once(call: CallOptions, token: string): Promise<RawResponse> {
    const started = performance.now();
    const headers: Record<string, string> = {
      accept: HEROKU_ACCEPT,
      authorization: `Bearer ${token}`,
      'user-agent': this.options.userAgent ?? USER_AGENT,
      ...call.headers,
    };
    let body: string | undefined;
    if (call.body !== undefined) {
      body = JSON.stringify(call.body);
      headers['content-type'] = 'application/json';
    }
    let status = 0;
    let rateLimitRemaining: number | undefined;
    try {
      const res = await request(`${this.baseUrl}${call.path}`, {
        method: call.method,
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.statusCode;
      const remaining = header(res.headers, 'ratelimit-remaining');
      rateLimitRemaining = remaining === undefined ? undefined : Number(remaining);
      const text = await res.body.text();
      let json: unknown = undefined;
      if (text.length > 0) {
        try {
          json = JSON.parse(text);
        } catch (err) {
          if (status < 400) {
            throw new HerokuApiError({
              kind: 'unexpected',
              method: call.method,
              route: call.route,
              status,
              cause: err,
            });
          }
        }
      }
      return { status, headers: res.headers, json, rateLimitRemaining };
    } catch (err) {
      if (err instanceof HerokuApiError) throw err;
      const { kind } = classifyFailure(err);
      throw new HerokuApiError({ kind, method: call.method, route: call.route, cause: err });
    } finally {
      this.options.onCall?.({
        method: call.method,
        route: call.route,
        status,
        durationMs: performance.now() - started,
        rateLimitRemaining,
      });
    }
  }

  private errorFor(call: CallOptions, response: RawResponse): HerokuApiError {
    const body = (response.json ?? {}) as { id?: unknown; message?: unknown };
    return new HerokuApiError({
      kind: kindForStatus(response.status),
      method: call.method,
      route: call.route,
      status: response.status,
      herokuId: typeof body.id === 'string' ? body.id : undefined,
      herokuMessage: typeof body.message === 'string' ? body.message : undefined,
      requestId: header(response.headers, 'request-id'),
      rateLimitRemaining: response.rateLimitRemaining,
      retryAfterMs: parseRetryAfter(header(response.headers, 'retry-after')),
    });
  }

  /** The `Next-Range` header of a 206, if more pages remain. */
  static nextRange(response: RawResponse): string | undefined {
    return response.status === 206 ? header(response.headers, 'next-range') : undefined;
  }
}
