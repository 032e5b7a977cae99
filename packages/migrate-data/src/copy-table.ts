import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Sql } from 'postgres';
import { connectDatabase } from './connect.js';

/** How much COPY data goes to the target in one write. */
const BATCH_BYTES = 256 * 1024;

/** Rows in a chunk of COPY text: one line per row (a newline inside a value is sent as `\n`). */
function countRows(chunk: Buffer): number {
  let rows = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) rows += 1;
  return rows;
}

/**
 * postgres.js's COPY stream, destroyed after its connection closed (a server gone, a session terminated), throws
 * from `_destroy` (it writes a CopyFail to the closed socket after calling back): out of a stream pipeline that is
 * an uncaught exception. The callback has run by then; the throw is dropped.
 */
function guardDestroy(writable: Writable): Writable {
  const destroy = writable._destroy.bind(writable);
  writable._destroy = (error, callback) => {
    try {
      destroy(error, callback);
    } catch {
      // see above
    }
  };
  return writable;
}

/**
 * Copies one table's rows from source to target: `COPY … TO STDOUT` streamed through into `COPY … FROM STDIN`,
 * in one target transaction that first empties the table. So a copy that stops half way (a cancel, a worker
 * killed, a connection lost) leaves the table as it was, and copying it again never duplicates a row. The table
 * was emptied in the same transaction, so the rows go in frozen (`FREEZE`): no vacuum owed on the target.
 */
export async function copyTable(options: {
  /** The source's URL: each table is read over a connection of its own, outside a transaction. */
  sourceUrl: string;
  target: Sql;
  /** Quoted and schema-qualified. */
  table: string;
  onProgress(progress: { rows: number; bytes: number }): void;
  signal?: AbortSignal;
}): Promise<{ rows: number; bytes: number }> {
  // A cancel also ends a COPY that is still waiting (for a lock on the source table, say).
  let pending: { cancel(): unknown } | undefined;
  const cancel = () => void pending?.cancel();
  options.signal?.addEventListener('abort', cancel, { once: true });
  // Not a pooled connection in a transaction: postgres.js's `reserve()` never answers on a pool that has not
  // connected yet when `fetch_types` is off, and a transaction whose session is terminated (a Heroku credential
  // rotation, a failover) writes its ROLLBACK to a closed socket from a timer, which throws out of the process.
  const source = connectDatabase(options.sourceUrl, { role: 'source', max: 1 });
  try {
    return await options.target.begin(async (tx) => {
      await tx.unsafe(`truncate only ${options.table}`);
      const out = source.unsafe(`copy ${options.table} to stdout`);
      pending = out;
      if (options.signal?.aborted) cancel();
      const readable = await out.readable();
      const writable = guardDestroy(await tx.unsafe(`copy ${options.table} from stdin with (freeze)`).writable());
      let rows = 0;
      let bytes = 0;
      // postgres.js hands over one chunk per row; the target gets them in batches (one socket write each).
      let batch: Buffer[] = [];
      let batched = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          rows += countRows(chunk);
          bytes += chunk.length;
          batch.push(chunk);
          batched += chunk.length;
          if (batched < BATCH_BYTES) {
            callback();
            return;
          }
          options.onProgress({ rows, bytes });
          const out = Buffer.concat(batch, batched);
          batch = [];
          batched = 0;
          callback(null, out);
        },
        flush(callback) {
          options.onProgress({ rows, bytes });
          callback(null, batched > 0 ? Buffer.concat(batch, batched) : undefined);
        },
      });
      try {
        await pipeline(readable, counter, writable, options.signal ? { signal: options.signal } : {});
      } finally {
        // postgres.js pauses the connection's socket when a COPY row does not fit the stream's buffer and resumes it
        // only when the stream is read again; when that row was the last one, the stream ends paused and the
        // connection never reads another answer (the transaction's COMMIT hangs). Reading once more resumes it.
        try {
          readable._read(0);
        } catch {
          // The connection is gone (its socket with it): nothing to resume.
        }
      }
      return { rows, bytes };
    });
  } finally {
    options.signal?.removeEventListener('abort', cancel);
    await source.end({ timeout: 2 });
  }
}
