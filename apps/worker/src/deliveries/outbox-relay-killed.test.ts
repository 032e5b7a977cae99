import { createLogger } from '@hds/core';
import { startRelay } from '@hds/destinations';
import { jobCatalog, queueNames } from '@hds/queue';
import { startProcess, startWebhookReceiver, waitFor } from '@hds/testkit';
import { Pipeline } from '@hds/testkit/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payload, projectWithWebhook, waitForDeliveries } from '../test-support/deliveries.js';

/**
 * A relay in a process of its own: it claims the outbox's rows (`enqueued_at = now()`, committed), prints their ids
 * and never enqueues them, as a process that dies between the two does; the test then kills it (SIGKILL). The
 * real `startRelay`, on the test's database.
 */
const RELAY_THAT_DIES_BEFORE_ENQUEUE = `
import { createLogger } from '@hds/core';
import { createDb } from '@hds/db';
import { startRelay } from '@hds/destinations';
const database = createDb({ url: process.env.DATABASE_URL, max: 2 });
const relay = await startRelay({
  db: database.db,
  listenSql: database.sql,
  sweepIntervalMs: 3_600_000,
  logger: createLogger({ app: 'relay-child', level: 'silent' }),
  enqueue: (due) => {
    console.log('claimed ' + due.map((d) => d.id).join(','));
    return new Promise(() => {});
  },
});
await relay.pump();
`;

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await Pipeline.start({ workers: 0, deliveries: { scheduleMs: [0, 100, 200] } });
});
afterAll(() => pipeline.close());

describe('the outbox relay killed between claiming rows and enqueueing them', () => {
  it('leaves the rows claimed and off the queue; the sweep of a relay with a short staleAfterMs delivers each once', async () => {
    const receiver = await startWebhookReceiver();
    const queue = pipeline.producer.queue(queueNames.deliveries);
    try {
      const { projectId, destinationId } = await projectWithWebhook(pipeline, receiver.url);
      const child = startProcess({
        name: 'relay that dies before enqueue',
        args: [
          '--conditions=@hds/source',
          '--import',
          'tsx',
          '--input-type=module',
          '--eval',
          RELAY_THAT_DIES_BEFORE_ENQUEUE,
        ],
        env: { DATABASE_URL: pipeline.database.url },
      });
      const claimedLine = await child.waitForLine((line) => line.startsWith('claimed '), { timeoutMs: 30_000 });
      const killed = await child.stop('SIGKILL');
      expect(killed.signal).toBe('SIGKILL');
      const claimed = claimedLine.slice('claimed '.length).split(',');

      // The claim was committed, the enqueue never happened.
      const rows = await pipeline.database.client.sql<{ id: string; status: string; enqueued_at: Date | null }[]>`
        select id, status, enqueued_at from deliveries where destination_id = ${destinationId}`;
      expect(rows).toHaveLength(1);
      expect(claimed).toEqual([rows[0]!.id]);
      expect(rows[0]!.status).toBe('pending');
      expect(rows[0]!.enqueued_at).not.toBeNull();
      expect(await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized')).toEqual({
        waiting: 0,
        delayed: 0,
        active: 0,
        prioritized: 0,
      });

      // A worker starts: its relay neither takes claimed rows (enqueued_at is set) nor, with the default
      // staleAfterMs (60 s), sweeps them up yet, so without a sweep that honours staleness they stay lost.
      const worker = await pipeline.startWorker();
      expect(await worker.relay!.pump({ sweep: true })).toBe(0);
      expect(receiver.received).toHaveLength(0);

      // A relay whose sweep runs every 50 ms and takes rows enqueued more than 300 ms ago without an outcome.
      const sweeping = await startRelay({
        db: pipeline.database.client.db,
        listenSql: pipeline.database.client.sql,
        sweepIntervalMs: 50,
        staleAfterMs: 300,
        logger: createLogger({ app: 'relay-test', level: 'silent' }),
        enqueue: async (due) => {
          await queue.addBulk(
            due.map(({ id }) => ({
              name: 'deliver',
              data: { deliveryId: id },
              opts: { ...jobCatalog.deliver.options, jobId: id },
            })),
          );
        },
      });
      try {
        const [got] = await receiver.waitFor(1);
        expect(payload(got!.body).data.value).toBe('postgres://u:v0@db.example/app');
        expect(got!.headers['webhook-id']).toBe(claimed[0]);
        const [delivered] = await waitForDeliveries(
          pipeline,
          { projectId, destinationId },
          (d) => d[0]?.status === 'delivered',
        );
        expect(delivered!.attempts).toBe(1);
        // The sweep keeps running: the delivered row is never enqueued again, even once its enqueued_at is stale.
        await pipeline.database.client.sql`
          update deliveries set enqueued_at = now() - interval '1 hour' where destination_id = ${destinationId}`;
        expect(await sweeping.pump({ sweep: true })).toBe(0);
        await waitFor(async () => {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          return Object.values(counts).every((n) => n === 0);
        });
        expect(receiver.received).toHaveLength(1);
      } finally {
        await sweeping.close();
      }
    } finally {
      for (const runtime of [...pipeline.workers]) await pipeline.crashWorker(runtime);
      await receiver.close();
    }
  });
});
