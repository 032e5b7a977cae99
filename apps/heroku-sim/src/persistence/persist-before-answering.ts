import type { RequestHandler, Response } from 'express';
import type { Logger } from '@hds/core';
import { herokuErrors } from '../support/heroku-error.js';
import type { StateJournal } from './state-journal.js';

/**
 * Holds back every answer to a request that may change state (any method but GET and HEAD) until the changes it
 * made are written to the state database, as Heroku answers only what it has stored: a sim killed right after
 * answering still has the change when it starts again. If the write fails the client gets a 503 instead of the
 * answer (the change stays queued and is written with the next one).
 */
export function persistBeforeAnswering(input: { journal: StateJournal; logger: Logger }): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      next();
      return;
    }
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    let held = false;
    res.end = ((...args: unknown[]) => {
      if (held) return end(...args);
      held = true;
      input.journal.flush().then(
        () => end(...args),
        (err: unknown) => {
          input.logger.error(
            { err, method: req.method, path: req.path },
            'could not write the sim state; answering 503',
          );
          if (res.headersSent) {
            res.destroy();
            return;
          }
          const error = herokuErrors.serverError(503);
          for (const name of res.getHeaderNames()) {
            if (name !== 'request-id' && !name.startsWith('ratelimit-')) res.removeHeader(name);
          }
          res.statusCode = error.status;
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
          end(JSON.stringify(error.toJSON()));
        },
      );
      return res;
    }) as Response['end'];
    next();
  };
}
