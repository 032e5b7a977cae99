import express, { Router, type ErrorRequestHandler } from 'express';
import { z } from 'zod';
import { requireApiAuth } from '../auth/api-auth.js';
import { ApiError, toApiError } from '../http/errors.js';
import { requestLogger } from '../http/request-context.js';
import { registerAccountRoutes } from './accounts.js';
import { ApiRoutes } from './api-routes.js';
import { registerAuditRoutes } from './audit.js';
import { registerDestinationRoutes } from './destinations.js';
import type { ApiDeps } from './deps.js';
import { registerEnvVarRoutes } from './env-vars.js';
import { registerHerokuSyncRoutes } from './heroku-sync.js';
import { registerMigrationRoutes } from './migrations.js';
import { createApiDocument, type OpenApiDocument } from './openapi-document.js';
import { registerProjectRoutes } from './projects.js';

/** The API's express router, and the OpenAPI document generated from the same registrations. */
export type ApiRouter = Router & { readonly document: OpenApiDocument };

/**
 * The admin API under `/api`: bearer auth, JSON in and out, and every error as `{error: {code, message}}`.
 * One flat router, so its error handler still knows the matched route. Each route is registered once, with the
 * schemas of its input and answers (see `api-routes.ts`), which is also what `GET /api/openapi.json` describes.
 */
export function createApiRouter(deps: ApiDeps & { adminToken: string }): ApiRouter {
  const router = Router();
  router.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  router.use(requireApiAuth({ adminToken: deps.adminToken, destinations: deps.destinations }));
  router.use(express.json({ limit: '256kb', strict: true }));
  const api = new ApiRoutes(router);
  registerAccountRoutes(api, deps);
  registerProjectRoutes(api, deps);
  registerEnvVarRoutes(api, deps);
  registerHerokuSyncRoutes(api, deps);
  registerAuditRoutes(api, deps);
  registerDestinationRoutes(api, deps);
  registerMigrationRoutes(api, deps);
  const served: { document?: OpenApiDocument } = {};
  api.route({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI 3.1 document',
    description:
      'Generated from the zod schemas the routes validate with; also shown in the console at /api-reference.',
    tags: ['API'],
    responses: { 200: { description: 'The document', schema: z.record(z.string(), z.unknown()) } },
    handler: () =>
      Promise.resolve({ status: 200 as const, body: served.document as unknown as Record<string, unknown> }),
  });
  // Built once, from every registration above (its own included): a schema that cannot be described fails here.
  const document = createApiDocument(api.routes);
  served.document = document;
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
  return Object.assign(router, { document }) as ApiRouter;
}
