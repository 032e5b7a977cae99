import express, { Router, type ErrorRequestHandler } from 'express';
import { requireBearer } from '../auth/bearer.js';
import { ApiError, toApiError } from '../http/errors.js';
import { requestLogger } from '../http/request-context.js';
import { registerAccountRoutes } from './accounts.js';
import { registerAuditRoutes } from './audit.js';
import type { ApiDeps } from './deps.js';
import { registerEnvVarRoutes } from './env-vars.js';
import { registerHerokuSyncRoutes } from './heroku-sync.js';
import { registerProjectRoutes } from './projects.js';

/**
 * The admin API under `/api`: bearer auth, JSON in and out, and every error as `{error: {code, message}}`.
 * One flat router, so its error handler still knows the matched route.
 */
export function createApiRouter(deps: ApiDeps & { adminToken: string }): Router {
  const router = Router();
  router.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  router.use(requireBearer(deps.adminToken));
  router.use(express.json({ limit: '256kb', strict: true }));

  registerAccountRoutes(router, deps);
  registerProjectRoutes(router, deps);
  registerEnvVarRoutes(router, deps);
  registerHerokuSyncRoutes(router, deps);
  registerAuditRoutes(router, deps);

  router.use((req, _res, next) => {
    next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.baseUrl}${req.path}`));
  });
  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    const apiError = toApiError(err);
    if (apiError.status >= 500 && apiError.code === 'internal') {
      requestLogger(res).error({ err }, 'unexpected error in the admin API');
    } else if (apiError.status >= 500) {
      requestLogger(res).warn({ err, code: apiError.code }, 'admin API call could not be served');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res
      .status(apiError.status)
      .set(apiError.headers)
      .json({ error: { code: apiError.code, message: apiError.message } });
  };
  router.use(onError);
  return router;
}
