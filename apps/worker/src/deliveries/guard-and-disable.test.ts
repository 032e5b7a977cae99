import { startWebhookReceiver, waitFor } from '@hds/testkit';
import { Pipeline } from '@hds/testkit/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectWithWebhook, waitForDeliveries } from '../test-support/deliveries.js';

// Private targets are not allowed here; `rebind.test` answers what `answer` says at each lookup.
let answer = '93.184.216.34';
let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await Pipeline.start({
    deliveries: {
      allowPrivate: false,
      allowedHosts: ['allowed.test'],
      lookup: () => Promise.resolve([{ address: answer, family: 4 }]),
      scheduleMs: [0, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50],
      disableAfterMs: 300,
    },
  });
});
afterAll(() => pipeline.close());

describe('outbound guard at delivery time, and disabling a destination that keeps failing', () => {
  it('refuses a name that resolves to 127.0.0.1 at delivery time though it was public at creation', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const port = new URL(receiver.url).port;
      answer = '93.184.216.34';
      // No var yet: nothing is sent while the name still answers a public address.
      const { projectId, destinationId } = await projectWithWebhook(pipeline, `https://rebind.test:${port}/hook`, {});
      answer = '127.0.0.1';
      await pipeline.sync.setEnvVar(projectId, 'DATABASE_URL', 'postgres://u:v1@db.example/app');
      const [delivery] = await waitForDeliveries(
        pipeline,
        { projectId, destinationId },
        (d) => d[0]?.lastError !== null && d[0]?.lastError !== undefined,
      );
      expect(delivery!.lastError).toMatch(/refused: rebind\.test resolves to 127\.0\.0\.1, a loopback address/);
      expect(receiver.received).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('reaches a private host an operator listed (plain http allowed there)', async () => {
    const receiver = await startWebhookReceiver();
    try {
      answer = '127.0.0.1';
      const port = new URL(receiver.url).port;
      const { projectId, destinationId } = await projectWithWebhook(pipeline, `http://allowed.test:${port}/hook`);
      await receiver.waitFor(1);
      await waitForDeliveries(pipeline, { projectId, destinationId }, (d) => d[0]?.status === 'delivered');
    } finally {
      await receiver.close();
    }
  });

  it('disables a destination whose deliveries fail for longer than allowed, with an audit row', async () => {
    const receiver = await startWebhookReceiver({ respond: () => ({ status: 502 }) });
    try {
      answer = '127.0.0.1';
      const port = new URL(receiver.url).port;
      const { projectId } = await projectWithWebhook(pipeline, `http://allowed.test:${port}/hook`);
      await waitFor(async () => (await pipeline.destinations.list(projectId))[0]?.state === 'disabled', {
        timeoutMs: 5000,
      });
      const [destination] = await pipeline.destinations.list(projectId);
      expect(destination!.lastError).toMatch(/every delivery failed/);
      const audit = await pipeline.sync.listAudit(projectId, { limit: 10 });
      expect(audit.map((a) => a.action)).toContain('destination_disabled');
    } finally {
      await receiver.close();
    }
  });
});
