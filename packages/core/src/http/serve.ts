import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then drops idle keep-alive sockets. */
  close(graceMs?: number): Promise<void>;
}

/** Listens on `host:port` (port 0 picks a free one) and resolves once the socket is bound. */
export async function listen(
  handler: RequestListener,
  options: { port: number; host?: string },
): Promise<RunningServer> {
  const server = createServer(handler);
  // Keep-alive connections from load balancers must outlive their idle timeout.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // Answers still being written when `close` is called end their keep-alive connection, so the server can close
  // as soon as they are done instead of waiting out the grace period for connections that went idle after `close`.
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const endKeepAlive = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (res.writableFinished) return;
    if (closing) endKeepAlive(res);
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
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
        closing = true;
        for (const res of inFlight) endKeepAlive(res);
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
