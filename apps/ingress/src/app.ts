import { createOpsRoutes, type Logger, type ReadinessCheck } from '@hds/core';
import type { JobProducer } from '@hds/queue';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Registry } from 'prom-client';
import { sendError } from './http-errors.js';
import { createIngressMetrics } from './metrics.js';
import { noteRequest, requestLog, requestNote } from './request-log.js';
import { LinkSecretCache } from './secret-cache.js';
import { webhookRoute } from './webhook-route.js';

export interface IngressAppOptions {
  producer: JobProducer;
  /** `WEBHOOK_SIGNING_KEYS`: a delivery signed with the secret derived from any of them is accepted. */
  signingKeys: readonly string[];
  logger: Logger;
  /** Where the ingress's metrics go; `/metrics` serves this registry. */
  registry: Registry;
  /**
   * Whether the queue's connection is up. While it is down, deliveries get 503 at once rather than after the
   * enqueue timeout, and no late job appears for a delivery that was refused. Defaults to always up.
   */
  queueIsUp?: () => boolean;
  /** `/readyz` checks, e.g. `{redis: () => pingRedis(redis)}`. */
  readinessChecks: Record<string, ReadinessCheck>;
  /** How long to wait for Redis to confirm a job before answering 503 (default 1500 ms). */
  enqueueTimeoutMs?: number;
  /** `Retry-After` of a 503, in seconds (default 5). */
  retryAfterSeconds?: number;
  /** Largest accepted body (default 256 KiB). */
  bodyLimitBytes?: number;
  /** How many links' derived secrets to keep (default 10,000). */
  secretCacheSize?: number;
  /** Clock for the job's `receivedAt` (ms since epoch). */
  now?: () => number;
}

export const defaultBodyLimitBytes = 256 * 1024;

/**
 * The ingress as an express app, without a server: `POST /webhooks/heroku/:linkId`, `/healthz`, `/readyz`,
 * `/metrics`. Stateless: everything it knows comes from its options and Redis.
 */
export function createIngressApp(options: IngressAppOptions): Express {
  const { logger } = options;
  const metrics = createIngressMetrics(options.registry);
  const app = express();
  app.disable('x-powered-by');
  // Nobody caches webhook answers; an ETag would only cost a hash per response.
  app.set('etag', false);

  app.use(requestLog(logger));
  const webhook = webhookRoute({
    producer: options.producer,
    signingKeys: options.signingKeys,
    secrets: new LinkSecretCache({ signingKeys: options.signingKeys, maxLinks: options.secretCacheSize ?? 10_000 }),
    metrics,
    bodyLimitBytes: options.bodyLimitBytes ?? defaultBodyLimitBytes,
    queueIsUp: options.queueIsUp ?? (() => true),
    enqueueTimeoutMs: options.enqueueTimeoutMs ?? 1500,
    retryAfterSeconds: options.retryAfterSeconds ?? 5,
    now: options.now ?? Date.now,
  });
  app.post(webhook.path, ...webhook.handlers);
  app.use(createOpsRoutes({ registry: options.registry, checks: options.readinessChecks }));

  app.use((req, res) => {
    sendError(res, { status: 404, code: 'not_found', message: `no route for ${req.method} ${req.path}` });
  });
  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const status = (err as { status?: unknown } | null)?.status;
    const clientError = typeof status === 'number' && status >= 400 && status < 500;
    if (req.path.startsWith('/webhooks/')) {
      const outcome = clientError ? 'bad_request' : 'error';
      metrics.countRequest(outcome);
      noteRequest(res, { ...requestNote(res), outcome, err });
    } else if (!clientError) {
      logger.error({ err, method: req.method, path: req.path }, 'request failed');
    }
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    if (clientError) sendError(res, { status: 400, code: 'bad_request', message: 'the request could not be read' });
    else sendError(res, { status: 500, code: 'internal', message: 'internal error' });
  };
  app.use(onError);
  return app;
}
