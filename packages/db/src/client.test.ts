import { createServer, connect, type Server, type Socket } from 'node:net';
import { testServices } from '@hds/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb, type DbClient } from './client.js';

/** The ErrorResponse a backend sends when a shutdown (`pg_ctl stop -m fast`) or `pg_terminate_backend` ends it. */
function terminatedByAdministrator(): Buffer {
  const fields = Buffer.from(
    ['SFATAL', 'VFATAL', 'C57P01', 'Mterminating connection due to administrator command']
      .map((f) => `${f}\0`)
      .join('') + '\0',
    'latin1',
  );
  const header = Buffer.alloc(5);
  header.write('E', 0, 'latin1');
  header.writeUInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

/**
 * A TCP proxy in front of the test Postgres. On the first connection, the first statement sent after the server
 * said it is ready (its first ReadyForQuery) is answered as a Postgres restart answers it: "terminating connection
 * due to administrator command", and the connection ends. Later connections pass through. Records what each
 * client sent.
 */
async function startProxy(): Promise<{ url: string; sent: string[]; close(): Promise<void> }> {
  const upstream = new URL(testServices.pgAdminUrl);
  const sent: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const first = sent.length === 0;
    const index = sent.push('') - 1;
    const backend = connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(client).add(backend);
    let ready = false;
    client.on('data', (chunk: Buffer) => {
      sent[index] += chunk.toString('latin1');
      if (first && ready) {
        client.end(terminatedByAdministrator());
        backend.destroy();
        return;
      }
      backend.write(chunk);
    });
    // Server messages are a type byte and a 4-byte length (which counts itself); ReadyForQuery is 'Z'.
    let pending = Buffer.alloc(0);
    backend.on('data', (chunk: Buffer) => {
      client.write(chunk);
      if (!first || ready) return;
      pending = Buffer.concat([pending, chunk]);
      for (let at = 0; pending.length - at >= 5;) {
        if (pending[at] === 0x5a) ready = true;
        at += 1 + pending.readUInt32BE(at + 1);
      }
    });
    const closeBoth = () => {
      client.destroy();
      backend.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    backend.on('error', closeBoth).on('close', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  const url = new URL(testServices.pgAdminUrl);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  return {
    url: url.href,
    sent,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

describe('createDb', () => {
  // postgres.js (3.4.9) runs a catalog query of its own on each new connection (`fetch_types`) and drops its
  // promise: a server that ends the connection during that query crashed the process with an unhandled rejection
  // (porsager/postgres#1192, #1223), which is what a Postgres restart does to the workers' fresh connections.
  it('survives a connection the server ends at its first statement: no unhandled rejection, the next query works', async () => {
    const proxy = await startProxy();
    opened.push(proxy);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const db: DbClient = createDb({ url: proxy.url, max: 1 });
    opened.push(db);
    try {
      // The statement on the ended connection fails, catchably, as may the next (postgres.js can hand the old
      // backend's error to it, porsager/postgres#1223); then the client works again, as a retried job finds it.
      const outcomes: string[] = [];
      while (outcomes.length < 3 && outcomes.at(-1) !== 'ok') {
        outcomes.push(
          await db.sql`select 1 as one`.then(
            () => 'ok',
            (err: { code?: string }) => err.code ?? 'unknown',
          ),
        );
      }
      expect(outcomes.at(-1)).toBe('ok');
      expect(outcomes.slice(0, -1).every((code) => code === '57P01' || code === 'CONNECTION_CLOSED')).toBe(true);
      // An unhandled rejection is reported after the turn in which the promise was rejected.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      // Each connection's first statement is the caller's.
      expect(proxy.sent).toHaveLength(2);
      expect(proxy.sent.some((bytes) => bytes.includes('pg_catalog.pg_type'))).toBe(false);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
