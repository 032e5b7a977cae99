import { startWebhookReceiver, waitFor } from '@hds/testkit';
import { Pipeline } from '@hds/testkit/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectWithWebhook, waitForDeliveries } from '../test-support/deliveries.js';

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await Pipeline.start({ workers: 0 });
});
afterAll(() => pipeline.close());

/** The value of one sample of the Prometheus text `exposition`, by its name and labels (`undefined` if absent). */
function sample(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('delivery metrics of the worker process', () => {
  it('counts attempts by kind and outcome, and times commit → delivered for the delivered one only', async () => {
    const ok = await startWebhookReceiver();
    const broken = await startWebhookReceiver({ respond: () => ({ status: 500 }) });
    // Two attempts per delivery (at once, then 100 ms later), then it gives up.
    const worker = await pipeline.startWorkerProcess({
      DESTINATIONS_ALLOW_PRIVATE: 'true',
      DELIVERY_RETRY_SCHEDULE: '0,0.1',
    });
    try {
      const port = (JSON.parse(await worker.waitForLine((l) => l.includes('"worker listening"'))) as { port: number })
        .port;
      const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const before = await metrics();
      expect(sample(before, 'hds_delivery_attempts_total')).toBeUndefined();
      expect(sample(before, 'hds_commit_to_delivered_seconds_count')).toBe(0);

      const started = performance.now();
      const good = await projectWithWebhook(pipeline, ok.url);
      const bad = await projectWithWebhook(pipeline, broken.url);
      await waitForDeliveries(pipeline, good, (d) => d[0]?.status === 'delivered');
      const elapsedS = (performance.now() - started) / 1000;
      await waitForDeliveries(pipeline, bad, (d) => d[0]?.status === 'gave_up');
      expect(ok.received).toHaveLength(1);
      expect(broken.received).toHaveLength(2);

      // The hooks run right after each attempt's record commits: wait for the process to have counted them all.
      const after = await waitFor(async () => {
        const text = await metrics();
        return (
          (sample(text, 'hds_commit_to_delivered_seconds_count') ?? 0) >= 1 &&
          (sample(text, 'hds_delivery_attempts_total', { outcome: 'retry' }) ?? 0) >= 2 &&
          text
        );
      });
      expect(sample(after, 'hds_delivery_attempts_total', { kind: 'webhook', outcome: 'delivered' })).toBe(1);
      expect(sample(after, 'hds_delivery_attempts_total', { kind: 'webhook', outcome: 'retry' })).toBe(2);
      for (const outcome of ['gave_up', 'disable', 'needs_restart']) {
        expect(sample(after, 'hds_delivery_attempts_total', { outcome })).toBeUndefined();
      }
      expect(sample(after, 'hds_commit_to_delivered_seconds_count')).toBe(1);
      const seconds = sample(after, 'hds_commit_to_delivered_seconds_sum')!;
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(elapsedS);
      expect(sample(after, 'hds_commit_to_delivered_seconds_bucket', { le: '+Inf' })).toBe(1);
    } finally {
      await worker.stop('SIGKILL');
      await ok.close();
      await broken.close();
    }
  });
});
