import type { Logger } from '@hds/core';
import type { RequestHandler, Response } from 'express';
import type { WebhookOutcome } from './metrics.js';

/** What a webhook request did, for its log line. Ids only: never a body, a header or a signature. */
export interface RequestNote {
  outcome: WebhookOutcome;
  linkId?: string;
  eventId?: string;
  resource?: string;
  /** Why a request was refused or failed (an error code or a short reason). */
  reason?: string;
  /** The error behind a failure on our side (logged with the error serializer, secrets scrubbed). */
  err?: unknown;
}

/** Notes by response, kept beside express's objects rather than in `res.locals` (no global type augmentation). */
const notes = new WeakMap<Response, RequestNote>();

export function noteRequest(res: Response, note: RequestNote): void {
  notes.set(res, note);
}

/** What has been noted for this request so far. */
export function requestNote(res: Response): RequestNote | undefined {
  return notes.get(res);
}

/**
 * One structured line per request when its answer is sent: method, path, status, duration and the note. Webhook
 * requests log at `info` (`warn` when they failed on our side); health and metrics scrapes at `debug`.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const note = notes.get(res);
      const line = {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...note,
      };
      if (note === undefined) logger.debug(line, 'request');
      else if (res.statusCode >= 500) logger.warn(line, 'webhook');
      else logger.info(line, 'webhook');
    });
    next();
  };
}
