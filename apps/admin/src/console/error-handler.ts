import type { ErrorRequestHandler } from 'express';
import { toApiError } from '../http/errors.js';
import { requestLogger } from '../http/request-context.js';
import { renderErrorPage } from './pages/error-page.js';

/** Errors of browser pages become a readable page with the status they deserve; details only in the log. */
export const consoleErrorHandler: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  const apiError = toApiError(err);
  if (apiError.code === 'internal') requestLogger(res).error({ err }, 'console page failed');
  if (res.headersSent) {
    res.end();
    return;
  }
  res
    .status(apiError.status)
    .set('cache-control', 'no-store')
    .type('html')
    .send(
      renderErrorPage({
        title:
          apiError.status === 404
            ? 'Not found'
            : apiError.status >= 500
              ? 'Something went wrong'
              : 'This request could not be served',
        message: apiError.code === 'internal' ? 'An unexpected error happened; it was logged.' : apiError.message,
      }),
    );
};
