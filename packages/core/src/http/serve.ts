import {
  createServer,
  ServerResponse,
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  type RequestListener,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then drops idle keep-alive sockets. */
  close(graceMs?: number): Promise<void>;
}

type OutgoingHeaders = OutgoingHttpHeaders | OutgoingHttpHeader[];

/** How long a client may take to send a request, and how often Node checks. */
export interface RequestTimeouts {
  /** The whole request, headers and body (Node's `requestTimeout`; 300 s by default). */
  requestMs: number;
  /** The headers (Node's `headersTimeout`); at most `requestMs`. */
  headersMs: number;
  /** How often Node looks for requests past those limits (`connectionsCheckingInterval`; 30 s by default). */
  checkIntervalMs: number;
}

/**
 * Listens on `host:port` (port 0 picks a free one) and resolves once the socket is bound. With `timeouts`, requests
 * that arrive too slowly are answered 408 and their connection closed; idle keep-alive connections are not affected.
 */
export async function listen(
  handler: RequestListener,
  options: { port: number; host?: string; timeouts?: RequestTimeouts },
): Promise<RunningServer> {
  // Answers whose headers go out once `close` has been called end their keep-alive connection, so the server closes
  // as soon as the requests in flight are done instead of waiting out the grace period for connections that went
  // idle after `close`. Done in `writeHead` (which `end` calls too), so it costs the hot path one flag check.
  const state = { closing: false };
  class ClosingAwareResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
    override writeHead(statusCode: number, statusMessage?: string, headers?: OutgoingHeaders): this;
    override writeHead(statusCode: number, headers?: OutgoingHeaders): this;
    override writeHead(statusCode: number, ...rest: Array<string | OutgoingHeaders | undefined>): this {
      if (state.closing && !this.headersSent) this.setHeader('Connection', 'close');
      return super.writeHead(statusCode, ...(rest as [string | undefined, OutgoingHeaders | undefined]));
    }
  }
  const { timeouts } = options;
  const server = createServer(
    {
      ServerResponse: ClosingAwareResponse,
      ...(timeouts && {
        requestTimeout: timeouts.requestMs,
        headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs),
        connectionsCheckingInterval: timeouts.checkIntervalMs,
      }),
    },
    handler,
  );
  // Keep-alive connections from load balancers must outlive their idle timeout.
  server.keepAliveTimeout = 65_000;
  if (!timeouts) server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        state.closing = true;
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
