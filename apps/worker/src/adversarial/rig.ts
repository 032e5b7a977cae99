import { SyncService } from '@hds/sync';
import type { WorkerRuntime } from '../runtime.js';
import { Pipeline } from '@hds/testkit/pipeline';
import { freezableSync, type FreezableSync } from './freezable-sync.js';
import { createInFlight, type InFlight } from './in-flight.js';

/**
 * Settings of the shared pipeline the schedules run on. Short locks so that a crashed worker's job is taken over
 * within about half a second (lock 400 ms, stalled check every 200 ms); a short 429 rest; a short fetch lease,
 * so that a slow fetch may lose its lease and two fetches of one link overlap (the version guard must hold then too).
 */
export const RIG_SETTINGS = {
  workers: 2,
  lockDurationMs: 400,
  stalledIntervalMs: 200,
  // The final sweep stands for "a day later": a release without its delivery is evidence at once (no grace), every
  // webhook is due for its routine check, and the reconciler's budget (5 calls a second) allows them all.
  sync: {
    rateLimitBackoffMs: 150,
    leaseMs: 50,
    webhookGraceMs: 0,
    webhookCheckIntervalMs: 1,
    accountHourlyBudget: 180_000,
  },
} as const;

interface Worker {
  runtime: WorkerRuntime;
  freezable: FreezableSync;
}

/**
 * One pipeline for many schedules, with two worker runtimes. Each runtime has its own SyncService (its own
 * credential caches, as a separate process would) whose calls are tracked, and whose Heroku answers can be held.
 */
export interface Rig {
  pipeline: Pipeline;
  inFlight: InFlight;
  /**
   * Crashes the `count` oldest runtimes and starts as many new ones: each is frozen (its Heroku answers held)
   * and closed with force, its Redis connection cut (`Pipeline.crashWorker`).
   */
  crash(count: number): Promise<void>;
  /** Wakes every crashed runtime's processors: their held Heroku answers arrive now. */
  thaw(): void;
  close(): Promise<void>;
}

export async function startRig(): Promise<Rig> {
  const pipeline = await Pipeline.start({
    workers: 0,
    lockDurationMs: RIG_SETTINGS.lockDurationMs,
    stalledIntervalMs: RIG_SETTINGS.stalledIntervalMs,
    sync: RIG_SETTINGS.sync,
  });
  const inFlight = createInFlight();
  const workers: Worker[] = [];
  const frozen: FreezableSync[] = [];
  const { ctx } = pipeline.sync;

  const startWorker = async () => {
    const freezable = freezableSync(
      new SyncService({
        db: ctx.db,
        keyring: ctx.keyring,
        logger: ctx.logger,
        heroku: ctx.heroku,
        webhooks: ctx.webhooks,
        options: ctx.options,
      }),
    );
    const runtime = await pipeline.startWorker({ sync: inFlight.wrap(freezable.sync) });
    workers.push({ runtime, freezable });
  };
  const thaw = () => {
    for (const freezable of frozen.splice(0)) freezable.thaw();
  };
  for (let i = 0; i < RIG_SETTINGS.workers; i += 1) await startWorker();

  return {
    pipeline,
    inFlight,
    async crash(count) {
      const victims = workers.splice(0, count);
      for (const { runtime, freezable } of victims) {
        freezable.freeze();
        frozen.push(freezable);
        await pipeline.crashWorker(runtime);
      }
      for (let i = 0; i < victims.length; i += 1) await startWorker();
    },
    thaw,
    async close() {
      thaw();
      await inFlight.idle();
      await pipeline.close();
    },
  };
}
