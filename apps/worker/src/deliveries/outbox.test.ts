import { queueNames } from '@hds/queue';
import { startWebhookReceiver, waitFor } from '@hds/testkit';
import { Pipeline } from '@hds/testkit/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payload, projectWithWebhook, waitForDeliveries } from '../test-support/deliveries.js';

// No worker at first: each test decides when one runs.
let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await Pipeline.start({ workers: 0, deliveries: { scheduleMs: [0, 100, 200] } });
});
afterAll(() => pipeline.close());

/** The deliveries queue has nothing waiting, running or delayed. */
async function queueIdle(): Promise<void> {
  const queue = pipeline.producer.queue(queueNames.deliveries);
  await waitFor(async () => {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).every((n) => n === 0);
  });
}

async function stopWorkers(): Promise<void> {
  for (const runtime of [...pipeline.workers]) await pipeline.crashWorker(runtime);
}

describe('the transactional outbox', () => {
  it('writes the delivery in the change’s transaction: no worker at commit time, still delivered later, once', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { projectId, destinationId } = await projectWithWebhook(pipeline, receiver.url);
      await pipeline.sync.setEnvVar(projectId, 'DATABASE_URL', 'postgres://u:v1@db.example/app');
      // Committed, not enqueued: the relay was not running (a worker killed between commit and enqueue).
      const rows = await pipeline.database.client.sql`
        select status, enqueued_at from deliveries where destination_id = ${destinationId} order by created_at`;
      expect(rows.map((r): unknown[] => [r.status, r.enqueued_at])).toEqual([
        ['superseded', null],
        ['pending', null],
      ]);
      expect(await pipeline.producer.queue(queueNames.deliveries).getJobCounts()).toMatchObject({
        waiting: 0,
        delayed: 0,
      });

      await pipeline.startWorker();
      const [got] = await receiver.waitFor(1);
      expect(payload(got!.body).data.value).toBe('postgres://u:v1@db.example/app');
      await waitForDeliveries(pipeline, { projectId, destinationId }, (d) => d[0]?.status === 'delivered');
      // The relay's sweep runs again: nothing is sent twice.
      await pipeline.database.client.sql`update deliveries set enqueued_at = now() - interval '1 hour'`;
      expect(await pipeline.workers[0]!.relay!.pump({ sweep: true })).toBeGreaterThanOrEqual(0);
      await queueIdle();
      expect(receiver.received).toHaveLength(1);
    } finally {
      await stopWorkers();
      await receiver.close();
    }
  });

  it('never sends a delivery twice to a receiver that answered 2xx, whatever wakes its job again', async () => {
    const receiver = await startWebhookReceiver();
    try {
      await pipeline.startWorker();
      await pipeline.startWorker();
      const env = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`VAR_${i}`, `v${i}`]));
      const { projectId, destinationId } = await projectWithWebhook(pipeline, receiver.url, env);
      await receiver.waitFor(30);
      const settled = await waitForDeliveries(pipeline, { projectId, destinationId }, (d) =>
        d.every((x) => x.status === 'delivered'),
      );
      // Every job added again under another id, as a lost-and-found sweep or a duplicate relay would.
      const queue = pipeline.producer.queue(queueNames.deliveries);
      await queue.addBulk(
        settled.map((d) => ({ name: 'deliver', data: { deliveryId: d.id }, opts: { jobId: `dup-${d.id}` } })),
      );
      await queueIdle();
      expect(receiver.received).toHaveLength(30);
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(30);
    } finally {
      await stopWorkers();
      await receiver.close();
    }
  });

  it('supersedes an undelivered older value: only the newest is sent', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { projectId, destinationId } = await projectWithWebhook(pipeline, receiver.url);
      for (let i = 1; i <= 5; i += 1) {
        await pipeline.sync.setEnvVar(projectId, 'DATABASE_URL', `postgres://u:v${i}@db.example/app`);
      }
      await pipeline.startWorker();
      const [only] = await receiver.waitFor(1);
      const deliveries = await waitForDeliveries(
        pipeline,
        { projectId, destinationId },
        (d) => d[0]?.status === 'delivered',
      );
      expect(payload(only!.body).data.value).toBe('postgres://u:v5@db.example/app');
      expect(deliveries.map((d) => d.status)).toEqual(['delivered', ...Array<string>(5).fill('superseded')]);
      expect(receiver.received).toHaveLength(1);
    } finally {
      await stopWorkers();
      await receiver.close();
    }
  });

  it('never sends an older value after a newer one, with changes racing slow deliveries on two workers', async () => {
    const receiver = await startWebhookReceiver({ respond: () => ({ status: 204, delayMs: 40 }) });
    try {
      await pipeline.startWorker();
      await pipeline.startWorker();
      const { projectId, destinationId } = await projectWithWebhook(pipeline, receiver.url, {
        DATABASE_URL: 'postgres://u:v0@db.example/app',
      });
      for (let i = 1; i <= 20; i += 1) {
        await pipeline.sync.setEnvVar(projectId, 'DATABASE_URL', `postgres://u:v${i}@db.example/app`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await waitForDeliveries(pipeline, { projectId, destinationId }, (d) => d[0]?.status === 'delivered');
      const versions = receiver.received.map((r) => Number(/:v(\d+)@/.exec(payload(r.body).data.value!)![1]));
      expect(versions.at(-1)).toBe(20);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
    } finally {
      await stopWorkers();
      await receiver.close();
    }
  });

  it('redelivers one delivery, or every failed one since a time, with the same webhook-id', async () => {
    let failing = true;
    const receiver = await startWebhookReceiver({ respond: () => ({ status: failing ? 500 : 204 }) });
    try {
      await pipeline.startWorker();
      const { projectId, destinationId } = await projectWithWebhook(pipeline, receiver.url, { A: 'a', B: 'b' });
      const since = new Date(Date.now() - 60_000);
      const gaveUp = await waitForDeliveries(
        pipeline,
        { projectId, destinationId },
        (d) => d.length === 2 && d.every((x) => x.status === 'gave_up'),
      );
      failing = false;
      const before = receiver.received.length;
      const { deliveryIds } = await pipeline.destinations.redeliver({ projectId, failedSince: since });
      expect(deliveryIds.sort()).toEqual(gaveUp.map((d) => d.id).sort());
      await waitForDeliveries(pipeline, { projectId, destinationId }, (d) => d.every((x) => x.status === 'delivered'));
      const resent = receiver.received.slice(before).map((r) => r.headers['webhook-id']);
      expect(resent.sort()).toEqual(deliveryIds.sort());

      await pipeline.destinations.redeliver({ projectId, deliveryId: deliveryIds[0]! });
      await receiver.waitFor(before + 3);
      expect(receiver.received.at(-1)!.headers['webhook-id']).toBe(deliveryIds[0]);
      // An older value of a var is not sent again once a newer one exists.
      await pipeline.sync.setEnvVar(projectId, 'A', 'a2');
      await receiver.waitFor(before + 4);
      const older = gaveUp.find((d) => d.varName === 'A')!;
      await expect(pipeline.destinations.redeliver({ projectId, deliveryId: older.id })).rejects.toThrow(/newer value/);
    } finally {
      await stopWorkers();
      await receiver.close();
    }
  });
});
