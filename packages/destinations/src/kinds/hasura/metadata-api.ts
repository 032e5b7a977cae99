import { scrubSecrets } from '@hds/core';
import { request, type Dispatcher } from 'undici';

/** Hasura's error body (`../shared/hasura/README.md` §1): `{path, error, code}` and, for admins, `internal`. */
export interface HasuraErrorBody {
  path?: string;
  error: string;
  code: string;
  internal?: unknown;
}

/** One answered call: the status and the parsed body (an error body when the status is not 200). */
export type MetadataAnswer =
  { ok: true; status: number; body: unknown } | { ok: false; status: number; error: HasuraErrorBody };

/** No answer at all: refused, reset, timed out, or refused by the outbound-address guard. */
export class HasuraUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HasuraUnreachable';
  }
}

export interface MetadataApiOptions {
  /** Hasura's base URL; calls go to `${url}/v1/metadata`. */
  url: string;
  adminSecret: string;
  /** The outbound-address guard's dispatcher (every connection checked). */
  dispatcher: Dispatcher;
  /** `pg_update_source` blocks while Hasura connects to the new URL (README §3): keep this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * The `/v1/metadata` endpoint. Bodies are never logged or put into errors: an export holds the sources' URLs with
 * their passwords (README §7.9). Error texts from Hasura are scrubbed of credentials before they go anywhere.
 */
export class HasuraMetadataApi {
  private readonly endpoint: string;

  constructor(private readonly options: MetadataApiOptions) {
    this.endpoint = `${options.url.replace(/\/+$/, '')}/v1/metadata`;
  }

  async call(body: Record<string, unknown>): Promise<MetadataAnswer> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, timeout]) : timeout;
    let status: number;
    let text: string;
    try {
      const answer = await request(this.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hasura-admin-secret': this.options.adminSecret,
          'user-agent': 'heroku-db-sync/0.1 (hasura destination)',
        },
        body: JSON.stringify(body),
        dispatcher: this.options.dispatcher,
        signal,
      });
      status = answer.statusCode;
      text = await answer.body.text();
    } catch (err) {
      throw new HasuraUnreachable(describeFailure(err));
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (status === 200 && parsed !== undefined) return { ok: true, status, body: parsed };
    return { ok: false, status, error: errorBody(status, parsed) };
  }
}

function errorBody(status: number, parsed: unknown): HasuraErrorBody {
  const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  return {
    path: typeof body.path === 'string' ? body.path : undefined,
    error: scrubSecrets(typeof body.error === 'string' ? body.error : `HTTP ${status}`),
    code: typeof body.code === 'string' ? body.code : status === 200 ? 'unreadable-answer' : `http-${status}`,
    internal: body.internal,
  };
}

function describeFailure(err: unknown): string {
  const error = err as { name?: string; code?: string; reason?: string; message?: string; cause?: unknown };
  if (error.code === 'OUTBOUND_REFUSED') return scrubSecrets(error.message ?? 'outbound request refused');
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'Hasura did not answer in time';
  const cause = error.cause as { code?: string; message?: string } | undefined;
  if (cause?.code === 'OUTBOUND_REFUSED') return scrubSecrets(cause.message ?? 'outbound request refused');
  const code = error.code ?? cause?.code;
  return scrubSecrets(`Hasura unreachable: ${code ?? error.message ?? 'unknown error'}`);
}
