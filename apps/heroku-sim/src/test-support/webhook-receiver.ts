import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What tests read of a delivered body (the sim sends `api:release` events); everything else stays unknown. */
export interface DeliveredBody {
  id: string;
  action: string;
  data: {
    id: string;
    version: number;
    status: string;
    current: boolean;
    description: string;
    user: { id: string; email: string };
    app: { id: string; name: string };
    [key: string]: unknown;
  };
  webhook_metadata: {
    attempt: { id: string };
    delivery: { id: string };
    event: { id: string; include: string };
    webhook: { id: string };
  };
  [key: string]: unknown;
}

export interface ReceivedDelivery {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw bytes, as a signature is computed over them. */
  body: Buffer;
  /** The body parsed (an empty object when it is not JSON). */
  json: DeliveredBody;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedDelivery[];
  close(): Promise<void>;
}

/**
 * A local HTTP server standing in for a webhook consumer: records every POST and answers with
 * `respond(n)` for the n-th request (0-based; default 204).
 */
export async function startWebhookReceiver(
  options: { respond?: (index: number, delivery: ReceivedDelivery) => number } = {},
): Promise<WebhookReceiver> {
  const received: ReceivedDelivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let json = {} as DeliveredBody;
      try {
        json = JSON.parse(body.toString('utf8')) as DeliveredBody;
      } catch {
        // kept as raw bytes only
      }
      const delivery = { path: req.url ?? '/', headers: req.headers, body, json };
      const index = received.length;
      received.push(delivery);
      res.statusCode = options.respond?.(index, delivery) ?? 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
