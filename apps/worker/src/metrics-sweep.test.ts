// The reconciler's sweep metrics, as the worker's /metrics shows them: one sweep at a time, run by the test.
import { createMetricsRegistry, createOpsRoutes, listen, type RunningServer } from '@hds/core';
import { SyncService } from '@hds/sync';
import { Pipeline } from '@hds/testkit/pipeline';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerMetrics } from './metrics.js';

let pipeline: Pipeline;
let metricsServer: RunningServer;
let sync: SyncService;
/** How far the sim's clock is behind: the apps were made and linked a minute ago, as apps being linked usually were. */
let simClockBehindMs = 60_000;
beforeAll(async () => {
  // No worker runtime: nothing sweeps but the test.
  pipeline = await Pipeline.start({ workers: 0, sim: { clock: () => Date.now() - simClockBehindMs } });
  const registry = createMetricsRegistry('worker');
  const metrics = createWorkerMetrics(registry);
  // The pipeline's SyncService, with the worker's metric hooks (as apps/worker/src/main.ts wires them).
  sync = new SyncService({ ...pipeline.sync.ctx, hooks: metrics.hooks });
  metricsServer = await listen(express().use(createOpsRoutes({ registry, checks: {} })), {
    port: 0,
    host: '127.0.0.1',
  });
});
afterAll(async () => {
  await metricsServer?.close();
  await pipeline?.close();
});

const SWEEP_METRICS = [
  'hds_reconcile_sweep_duration_seconds_sum',
  'hds_reconcile_sweep_duration_seconds_count',
  'hds_reconcile_sweep_apps_sum',
  'hds_reconcile_sweep_apps_count',
  'hds_reconcile_links_behind_total',
  'hds_reconcile_sweep_calls_sum',
  'hds_reconcile_sweep_calls_count',
] as const;
type SweepMetrics = Record<(typeof SWEEP_METRICS)[number], number>;

/** The sweep metrics' values on GET /metrics (each must be there). */
async function scrape(): Promise<SweepMetrics> {
  const text = await (await fetch(`${metricsServer.url}/metrics`)).text();
  const values: Partial<SweepMetrics> = {};
  for (const name of SWEEP_METRICS) {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    expect(line, `${name} on /metrics`).toBeDefined();
    values[name] = Number(line!.slice(line!.lastIndexOf(' ') + 1));
  }
  return values as SweepMetrics;
}

describe('sweep metrics', () => {
  it('count each sweep: its duration, the apps it saw, the links it found behind and the calls it made', async () => {
    const behind = await pipeline.linkedProject({ prefix: 'metrics' });
    const { simAccountId, apiKey, accountId } = behind;
    await pipeline.linkedProject({ prefix: 'metrics', simAccountId, apiKey });
    pipeline.sim.createApp({ name: `metrics-unlinked-${simAccountId.slice(0, 8)}`, accountId: simAccountId });
    expect(await scrape()).toEqual(Object.fromEntries(SWEEP_METRICS.map((name) => [name, 0])));

    // Nothing released since the links were made: the sweep reads the list and nothing else.
    pipeline.sim.clearRequests();
    const quiet = await sync.sweepAccount(accountId, 'metrics-test');
    expect(pipeline.sim.requests({ accountId: simAccountId }).map((r) => r.path)).toEqual(['/apps']);
    expect(quiet).toMatchObject({ outcome: 'swept', appsSeen: 3, linksBehind: 0, calls: 1 });
    const afterQuiet = await scrape();
    expect(afterQuiet).toMatchObject({
      hds_reconcile_sweep_duration_seconds_count: 1,
      hds_reconcile_sweep_apps_sum: 3,
      hds_reconcile_sweep_apps_count: 1,
      hds_reconcile_links_behind_total: 0,
      hds_reconcile_sweep_calls_sum: 1,
      hds_reconcile_sweep_calls_count: 1,
    });
    expect(afterQuiet.hds_reconcile_sweep_duration_seconds_sum).toBeGreaterThan(0);

    // A release whose delivery is lost: the sweep finds the link behind and applies it.
    pipeline.sim.setFaults({ deliveries: { drop: { rate: 1 } } });
    try {
      simClockBehindMs = 0;
      const rotation = pipeline.sim.rotateCredentials({ app: behind.app.name });
      await pipeline.sim.settled();
      pipeline.sim.clearRequests();
      const startedAt = performance.now();
      const found = await sync.sweepAccount(accountId, 'metrics-test');
      const tookS = (performance.now() - startedAt) / 1000;
      // The list, the newest releases and the newest release's config (its webhook is checked after a grace period).
      expect(pipeline.sim.requests({ accountId: simAccountId }).map((r) => r.path)).toEqual([
        '/apps',
        `/apps/${behind.app.id}/releases`,
        `/apps/${behind.app.id}/releases/${rotation.version}/config-vars`,
      ]);
      expect(found).toMatchObject({ outcome: 'swept', appsSeen: 3, linksBehind: 1, calls: 3 });
      expect(await pipeline.envValue(behind.projectId)).toBe(rotation.databaseUrl);
      const afterFound = await scrape();
      expect(afterFound).toMatchObject({
        hds_reconcile_sweep_duration_seconds_count: 2,
        hds_reconcile_sweep_apps_sum: 6,
        hds_reconcile_sweep_apps_count: 2,
        hds_reconcile_links_behind_total: 1,
        hds_reconcile_sweep_calls_sum: 4,
        hds_reconcile_sweep_calls_count: 2,
      });
      const foundS =
        afterFound.hds_reconcile_sweep_duration_seconds_sum - afterQuiet.hds_reconcile_sweep_duration_seconds_sum;
      expect(foundS).toBeGreaterThan(0);
      expect(foundS).toBeLessThanOrEqual(tookS + 0.001); // the sweep times itself in whole milliseconds

      // Applied: the next sweep finds nothing behind (it looks at the releases again: the release was just made).
      pipeline.sim.clearRequests();
      const again = await sync.sweepAccount(accountId, 'metrics-test');
      const againCalls = pipeline.sim.requests({ accountId: simAccountId }).length;
      expect(again).toMatchObject({ outcome: 'swept', appsSeen: 3, linksBehind: 0, calls: againCalls });
      expect(await scrape()).toMatchObject({
        hds_reconcile_sweep_duration_seconds_count: 3,
        hds_reconcile_sweep_apps_sum: 9,
        hds_reconcile_sweep_apps_count: 3,
        hds_reconcile_links_behind_total: 1,
        hds_reconcile_sweep_calls_sum: 4 + againCalls,
        hds_reconcile_sweep_calls_count: 3,
      });
    } finally {
      pipeline.sim.clearFaults();
    }
  });
});
