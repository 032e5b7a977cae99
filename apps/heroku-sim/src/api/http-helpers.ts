import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Permission } from '../oauth/scopes.js';
import { HerokuError, herokuErrors } from '../support/heroku-error.js';
import { herokuTime } from '../support/clock.js';
import type { SimContext } from '../sim-context.js';
import { credentialAllows, type Credential } from './credentials.js';
import { pageList, parseRange, type ListShape } from './range.js';

/** Sets `Request-Id` and records the call in the request log when the answer is sent. */
export function requestRecorder(ctx: SimContext): RequestHandler {
  return (req, res, next) => {
    const requestId = randomUUID();
    res.set('Request-Id', requestId);
    const started = performance.now();
    const at = herokuTime(ctx.clock());
    res.on('finish', () => {
      const credential = res.locals.credential as Credential | undefined;
      const queryAt = req.originalUrl.indexOf('?');
      ctx.requestLog.add({
        requestId,
        at,
        method: req.method,
        path: req.originalUrl.slice(0, queryAt === -1 ? undefined : queryAt),
        query: queryAt === -1 ? '' : req.originalUrl.slice(queryAt + 1),
        accountId: credential?.account.id ?? null,
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        range: req.get('range') ?? null,
        userAgent: req.get('user-agent') ?? null,
      });
      ctx.logger.debug(
        { requestId, method: req.method, path: req.path, status: res.statusCode, accountId: credential?.account.id },
        'platform api request',
      );
    });
    next();
  };
}

export function sendError(res: Response, error: HerokuError): void {
  res.status(error.status).json(error.toJSON());
}

/** Turns thrown errors into Heroku's `{id, message}` answers; anything unexpected is a logged 500. */
export function herokuErrorHandler(ctx: SimContext): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof HerokuError) {
      sendError(res, err);
      return;
    }
    const type = (err as { type?: unknown }).type;
    if (type === 'entity.parse.failed') {
      sendError(res, herokuErrors.badRequest('Request body must be valid JSON.'));
      return;
    }
    if (type === 'entity.too.large') {
      sendError(res, new HerokuError(413, 'bad_request', 'Request body is too large.'));
      return;
    }
    ctx.logger.error({ err, path: req.path }, 'unexpected error in heroku-sim');
    sendError(res, herokuErrors.serverError(500));
  };
}

/** The credential the authentication middleware found (routes after it always have one). */
export function credentialOf(res: Response): Credential {
  const credential = res.locals.credential as Credential | undefined;
  if (!credential) throw herokuErrors.unauthorized();
  return credential;
}

/** A single query parameter as a string, if present. */
export function queryString(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

/** A route guard: OAuth tokens need a scope granting `permission` (403 otherwise); API keys pass. */
export function need(permission: Permission): RequestHandler {
  return (_req, res, next) => {
    if (!credentialAllows(credentialOf(res), permission)) throw herokuErrors.forbidden();
    next();
  };
}

/** Answers a list the way Heroku pages it: `Range` in, 200 or 206 with `Next-Range` out. */
export function sendList<T>(
  req: Request,
  res: Response,
  input: { items: readonly T[]; shape: ListShape<T>; serialize: (item: T) => unknown },
): void {
  const spec = parseRange(req.get('range'), input.shape.fields);
  const page = pageList(input.items, spec, input.shape);
  res.set('Accept-Ranges', input.shape.fields.join(', '));
  if (page.contentRange) res.set('Content-Range', page.contentRange);
  if (page.nextRange) res.set('Next-Range', page.nextRange);
  res.status(page.nextRange ? 206 : 200).json(page.items.map(input.serialize));
}

/** A path parameter of the route (Express types cannot infer them through a guard middleware). */
export function param(req: Request, name: string): string {
  const value = (req.params as Record<string, unknown>)[name];
  if (typeof value !== 'string') throw herokuErrors.notFound(`Missing ${name}.`);
  return value;
}
