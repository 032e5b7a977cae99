import type { RequestListener } from 'node:http';
import { listen, type RequestTimeouts, type RunningServer } from '@hds/core';

/** `REQUEST_TIMEOUT_MS`'s default. */
export const defaultRequestTimeoutMs = 10_000;

/**
 * The ingress's request timeouts from `REQUEST_TIMEOUT_MS`: the headers get half of it (at most 5 s) and Node checks
 * every tenth of it (at most every second), so a slow client is cut off within about 1.1 × the timeout. A Heroku
 * delivery is a few KiB sent at once; Node's defaults (300 s, checked every 30 s) let slow bodies hold sockets.
 */
export function ingressTimeouts(options: { requestTimeoutMs: number }): RequestTimeouts {
  const requestMs = options.requestTimeoutMs;
  return {
    requestMs,
    headersMs: Math.min(5000, Math.ceil(requestMs / 2)),
    checkIntervalMs: Math.min(1000, Math.max(10, Math.ceil(requestMs / 10))),
  };
}

/** Serves the ingress app with its timeouts (main.ts and the tests' in-process ingress). */
export function serveIngress(options: {
  app: RequestListener;
  port: number;
  host?: string;
  requestTimeoutMs: number;
}): Promise<RunningServer> {
  return listen(options.app, {
    port: options.port,
    ...(options.host === undefined ? {} : { host: options.host }),
    timeouts: ingressTimeouts({ requestTimeoutMs: options.requestTimeoutMs }),
  });
}
