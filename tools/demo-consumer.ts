// The demo's receiver: examples/consumer's parts in-process (a verified webhook, the value read with a project read
// token, a postgres.js pool swapped without failing queries), so `npm run demo` shows the last mile too.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SwappablePool } from '../examples/consumer/src/pool.js';
import { createReceiver, fetchValue } from '../examples/consumer/src/receiver.js';

export interface DemoConsumer {
  url: string;
  /** Resolves when the pool moved to the URL of release `version`, with how many customers its first query read. */
  swapped(version: number): Promise<{ at: number; customers: number }>;
  close(): Promise<void>;
}

export async function startDemoConsumer(input: {
  apiUrl: string;
  projectId: string;
  token: string;
  varName: string;
}): Promise<DemoConsumer & { setSecret(secret: string): void }> {
  let verify: ReturnType<typeof createReceiver> | undefined;
  let pool: SwappablePool | undefined;
  const swaps = new Map<number, { at: number; customers: number }>();
  const waiters = new Map<number, (swap: { at: number; customers: number }) => void>();
  let applying: Promise<void> = Promise.resolve();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let event;
      try {
        event = verify?.(Buffer.concat(chunks).toString('utf8'), req.headers);
      } catch {
        res.writeHead(400).end();
        return;
      }
      // Acknowledged once verified; applied in order, without holding the sender (see examples/consumer).
      res.writeHead(204).end();
      if (!event || event.data.name !== input.varName) return;
      const version = event.data.releaseVersion ?? 0;
      applying = applying
        .then(async () => {
          const url = await fetchValue({ ...input, name: input.varName });
          if (!url) return;
          if (pool) await pool.swap(url);
          else pool = new SwappablePool(url, { max: 2 });
          // Not awaited: a query on a URL already rotated away waits for the next pool, which the next delivery brings.
          void pool
            .query((sql) => sql<{ n: number }[]>`select count(*)::int as n from customers`)
            .then(
              ({ result }) => {
                const swap = { at: Date.now(), customers: result[0]?.n ?? 0 };
                swaps.set(version, swap);
                waiters.get(version)?.(swap);
              },
              () => undefined,
            );
        })
        .catch(() => undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    setSecret: (secret) => {
      verify = createReceiver(secret);
    },
    swapped: (version) => {
      const done = swaps.get(version);
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`release v${version} did not reach the consumer`)), 20_000);
        waiters.set(version, (swap) => {
          clearTimeout(timer);
          resolve(swap);
        });
      });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool?.close();
    },
  };
}
