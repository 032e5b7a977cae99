import type { Logger } from '@hds/core';
import type { Database } from '@hds/db';
import { sql } from 'drizzle-orm';
import type { Sql } from 'postgres';

/** The channel `hds_outbox_add` notifies when a transaction added deliveries. */
export const DELIVERIES_CHANNEL = 'deliveries_pending';

export interface RelayOptions {
  db: Database;
  /** A postgres.js client for LISTEN (it holds one connection of its own). */
  listenSql: Sql;
  /** Puts deliveries on the `deliveries` queue (job id = delivery id, so adding one twice adds nothing). */
  enqueue(deliveries: ReadonlyArray<{ id: string; delayMs: number }>): Promise<void>;
  /** How often the sweep looks for deliveries the queue lost or never got. */
  sweepIntervalMs: number;
  /** A due delivery enqueued longer ago than this without an outcome is enqueued again by the sweep. */
  staleAfterMs?: number;
  batchSize?: number;
  logger: Logger;
}

export interface Relay {
  /** Enqueues every delivery not yet on the queue (and, with `sweep`, the due ones it may have lost). */
  pump(options?: { sweep?: boolean }): Promise<number>;
  close(): Promise<void>;
}

/**
 * Moves the outbox to the queue: woken by `pg_notify('deliveries_pending')` after each commit that added
 * deliveries, and by a periodic sweep, so a crash between a commit and its enqueue loses nothing. Enqueueing is
 * idempotent (job id = delivery id), and the worker checks the delivery's state before any attempt, so relays in
 * several processes at once are harmless.
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const { db, logger } = options;
  const batchSize = options.batchSize ?? 500;
  const staleAfterMs = options.staleAfterMs ?? 60_000;
  let running: Promise<number> | null = null;
  let again = false;
  let closed = false;

  const pumpOnce = async (sweep: boolean): Promise<number> => {
    let total = 0;
    for (;;) {
      const rows = await db.execute<{ id: string; delay_ms: number }>(sql`
        update deliveries set enqueued_at = now() where id in (
          select id from deliveries
          where status in ('pending', 'failed') and (enqueued_at is null or
            (${sweep} and next_attempt_at <= now() and enqueued_at < now() - ${staleAfterMs} * interval '1 millisecond'))
          order by created_at limit ${batchSize} for update skip locked)
        returning id, greatest(0, extract(epoch from (next_attempt_at - now())) * 1000)::integer as delay_ms`);
      if (rows.length > 0) {
        try {
          await options.enqueue(rows.map((r) => ({ id: r.id, delayMs: Number(r.delay_ms) })));
        } catch (err) {
          const ids = rows.map((r) => r.id).join(',');
          await db.execute(sql`update deliveries set enqueued_at = null
            where id::text = any(string_to_array(${ids}, ','))`);
          throw err;
        }
      }
      total += rows.length;
      if (rows.length < batchSize) return total;
    }
  };

  const pump = (pumpOptions: { sweep?: boolean } = {}): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      let sweep = pumpOptions.sweep ?? false;
      do {
        again = false;
        total += await pumpOnce(sweep);
        sweep = false;
      } while (again && !closed);
      return total;
    })().finally(() => {
      running = null;
    });
    return running;
  };

  const wake = (sweep: boolean) => {
    if (closed) return;
    pump({ sweep }).catch((err: unknown) =>
      logger.warn({ err }, 'delivery relay could not enqueue; the sweep retries'),
    );
  };

  const listener = await options.listenSql.listen(
    DELIVERIES_CHANNEL,
    () => wake(false),
    () => wake(true),
  );
  const timer = setInterval(() => wake(true), options.sweepIntervalMs);
  timer.unref();

  return {
    pump,
    close: async () => {
      closed = true;
      clearInterval(timer);
      await listener.unlisten().catch(() => undefined);
      await running?.catch(() => undefined);
    },
  };
}
