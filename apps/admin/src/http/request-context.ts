import { randomUUID } from 'node:crypto';
import type { Logger } from '@hds/core';
import type { Request, RequestHandler, Response } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';

/** The admin's HTTP metrics: requests by route template and status. */
export function createHttpMetrics(registry: Registry) {
  const requests = new Counter({
    name: 'hds_admin_http_requests_total',
    help: 'Admin HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hds_admin_http_request_duration_seconds',
    help: 'Admin HTTP request duration by route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { requests, duration };
}
export type HttpMetrics = ReturnType<typeof createHttpMetrics>;

/** The request's child logger (set by `requestContext`). */
export function requestLogger(res: Response): Logger {
  return res.locals.logger as Logger;
}

/**
 * The route template a request matched (`/api/projects/:id`), never the raw path, so metric labels stay
 * bounded. Mounted sub-apps (Bull Board) are labelled by their mount point.
 */
function routeLabel(req: Request, res: Response): string {
  const fixed = res.locals.routeLabel as string | undefined;
  if (fixed) return fixed;
  const route = req.route as { path?: unknown } | undefined;
  if (route && typeof route.path === 'string') return `${req.baseUrl}${route.path}`;
  // Answered before a route matched (auth, 404): labelled by the router that answered.
  return req.baseUrl ? `${req.baseUrl}/*` : 'unmatched';
}

/** Gives each request a child logger with a request id, and counts it when the response is done. */
export function requestContext(options: { logger: Logger; metrics: HttpMetrics }): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    res.locals.logger = options.logger.child({ reqId: requestId });
    res.setHeader('x-request-id', requestId);
    res.once('finish', () => {
      // Routers answer their own errors, so the route and mount path are still set when the response ends.
      const route = routeLabel(req, res);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      options.metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
      options.metrics.duration.observe({ method: req.method, route }, seconds);
      const log = requestLogger(res);
      const fields = { method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) };
      if (res.statusCode >= 500) log.error(fields, 'request failed');
      else log.debug(fields, 'request');
    });
    next();
  };
}
