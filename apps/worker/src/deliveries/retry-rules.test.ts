import { startWebhookReceiver, waitFor } from '@hds/testkit';
import { Pipeline } from '@hds/testkit/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payload, projectWithWebhook, waitForDeliveries } from '../test-support/deliveries.js';

// A fast schedule: attempts at once, then after 100 ms, 200 ms (each ±20 %).
let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await Pipeline.start({ deliveries: { scheduleMs: [0, 100, 200], timeoutMs: 500 } });
});
afterAll(() => pipeline.close());

describe('webhook retry rules', () => {
  it('retries a 5xx on the schedule with the same webhook-id until a 2xx', async () => {
    const receiver = await startWebhookReceiver({ respond: ({ index }) => ({ status: index < 2 ? 500 : 204 }) });
    try {
      const { projectId, destinationId } = await projectWithWebhook(pipeline, receiver.url);
      const got = await receiver.waitFor(3);
      expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
      // The schedule's waits, with jitter (100 ms ±20 %, 200 ms ±20 %).
      expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(75);
      expect(got[2]!.at - got[1]!.at).toBeGreaterThanOrEqual(155);
      const [delivery] = await waitForDeliveries(
        pipeline,
        { projectId, destinationId },
        (d) => d[0]?.status === 'delivered',
      );
      expect(delivery).toMatchObject({ attempts: 3, lastStatusCode: 204 });
      const attempts = await pipeline.database.client.sql`
        select outcome, status_code from delivery_attempts where delivery_id = ${delivery!.id} order by id`;
      expect(attempts.map((a): unknown[] => [a.outcome, a.status_code])).toEqual([
        ['retry', 500],
        ['retry', 500],
        ['delivered', 204],
      ]);
      const [destination] = await pipeline.destinations.list(projectId);
      expect(destination).toMatchObject({ state: 'active', lastError: null });
    } finally {
      await receiver.close();
    }
  });

  it('gives up when the schedule is used up, and the destination is failing', async () => {
    const receiver = await startWebhookReceiver({ respond: () => ({ status: 500 }) });
    try {
      const { projectId, destinationId } = await projectWithWebhook(pipeline, receiver.url);
      const [delivery] = await waitForDeliveries(
        pipeline,
        { projectId, destinationId },
        (d) => d[0]?.status === 'gave_up',
      );
      expect(delivery).toMatchObject({ attempts: 3, lastStatusCode: 500 });
      expect(receiver.received).toHaveLength(3);
      const [destination] = await pipeline.destinations.list(projectId);
      expect(destination).toMatchObject({ state: 'failing', lastError: 'the receiver answered 500' });
    } finally {
      await receiver.close();
    }
  });

  it('does not follow a redirect: a 3xx is a failure', async () => {
    const elsewhere = await startWebhookReceiver();
    const receiver = await startWebhookReceiver({
      respond: ({ index }) => (index === 0 ? { status: 307, headers: { location: elsewhere.url } } : { status: 204 }),
    });
    try {
      const { projectId, destinationId } = await projectWithWebhook(pipeline, receiver.url);
      await waitForDeliveries(pipeline, { projectId, destinationId }, (d) => d[0]?.status === 'delivered');
      expect(receiver.received.map((r) => r.status)).toEqual([307, 204]);
      expect(elsewhere.received).toEqual([]);
      const [delivery] = await pipeline.destinations.listDeliveries(projectId, destinationId, 1);
      expect(delivery!.attempts).toBe(2);
    } finally {
      await receiver.close();
      await elsewhere.close();
    }
  });

  it.each([429, 503])('honours Retry-After on a %i', async (status) => {
    const receiver = await startWebhookReceiver({
      respond: ({ index }) => (index === 0 ? { status, headers: { 'retry-after': '1' } } : { status: 204 }),
    });
    try {
      await projectWithWebhook(pipeline, receiver.url);
      const [first, second] = await receiver.waitFor(2, 5000);
      // The schedule says ~100 ms; the receiver asked for 1 s.
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    } finally {
      await receiver.close();
    }
  });

  it('disables the destination on a 410, with an audit row, and queues nothing more for it', async () => {
    const receiver = await startWebhookReceiver({ respond: () => ({ status: 410 }) });
    try {
      const { projectId, destinationId } = await projectWithWebhook(pipeline, receiver.url);
      await waitFor(async () => (await pipeline.destinations.list(projectId))[0]?.state === 'disabled');
      const [delivery] = await pipeline.destinations.listDeliveries(projectId, destinationId, 1);
      expect(delivery).toMatchObject({ status: 'gave_up', attempts: 1, lastStatusCode: 410 });
      const audit = await pipeline.sync.listAudit(projectId, { limit: 10 });
      expect(audit).toContainEqual(
        expect.objectContaining({ action: 'destination_disabled', detail: expect.objectContaining({ destinationId }) }),
      );
      await pipeline.sync.setEnvVar(projectId, 'DATABASE_URL', 'postgres://u:v1@db.example/app');
      expect(await pipeline.destinations.listDeliveries(projectId, destinationId, 10)).toHaveLength(1);
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('retries an answer slower than the timeout with the same webhook-id (the one allowed double send)', async () => {
    const receiver = await startWebhookReceiver({
      respond: ({ index }) => (index === 0 ? { status: 204, delayMs: 900 } : { status: 204 }),
    });
    try {
      const { projectId, destinationId } = await projectWithWebhook(pipeline, receiver.url);
      const [delivery] = await waitForDeliveries(
        pipeline,
        { projectId, destinationId },
        (d) => d[0]?.status === 'delivered',
      );
      expect(delivery!.attempts).toBe(2);
      const got = await receiver.waitFor(2, 3000);
      expect(got[0]!.headers['webhook-id']).toBe(got[1]!.headers['webhook-id']);
      const attempts = await pipeline.database.client.sql`
        select outcome, error from delivery_attempts where delivery_id = ${delivery!.id} order by id`;
      expect(attempts[0]).toMatchObject({ outcome: 'retry', error: 'no answer within 500 ms' });
    } finally {
      await receiver.close();
    }
  });

  it('signs with both secrets during a rotation’s overlap', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { projectId, destinationId, secret } = await projectWithWebhook(pipeline, receiver.url);
      await receiver.waitFor(1);
      const rotated = await pipeline.destinations.rotateWebhookSecret({ projectId, destinationId, overlapMs: 60_000 });
      await pipeline.sync.setEnvVar(projectId, 'DATABASE_URL', 'postgres://u:v2@db.example/app');
      const [, second] = await receiver.waitFor(2);
      const { Webhook } = await import('standardwebhooks');
      const headers = second!.headers as Record<string, string>;
      expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
      expect(new Webhook(secret).verify(second!.body, headers)).toBeTruthy();
      expect(new Webhook(rotated.secret).verify(second!.body, headers)).toBeTruthy();
      expect(payload(second!.body).data.value).toBe('postgres://u:v2@db.example/app');
    } finally {
      await receiver.close();
    }
  });
});
