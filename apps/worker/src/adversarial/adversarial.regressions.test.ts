/**
 * Named hard schedules for the adversarial property, played by the same runner as
 * `adversarial.property.test.ts` (read its header for the pipeline, the steps and the property). Hand-written
 * ones aim at the places where the guards matter; shrunk counterexamples found by the property test are kept
 * here too, each named after what it broke.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startRig, type Rig } from './rig.js';
import { runSchedule } from './run-schedule.js';
import { normalizeSchedule, type Schedule, type Step } from './schedule.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(() => rig.close());

const rotate = (app: number): Step => ({ kind: 'rotate', app });
const settle: Step = { kind: 'settle' };

const schedules: Record<string, Schedule> = {
  'releases delivered 3, 5, 4, with both workers crashing mid-fetch of 5 and the crashed ones committing last': {
    apps: 2,
    accounts: 1,
    steps: [
      rotate(0), // v2
      rotate(0), // v3
      settle,
      // v4 and v5 are held (create and update of each) and go out newest first once all four are held.
      { kind: 'faults', faults: { reorder: { next: 4, batch: 4, app: 0 } } },
      rotate(0), // v4
      rotate(1),
      rotate(0), // v5
      { kind: 'crash', workers: 2, app: 0 },
      rotate(0), // v6, while the crashed workers' fetches are still out
      rotate(1),
    ],
  },
  'a 429 burst during a duplicate storm, on both accounts': {
    apps: 3,
    accounts: 2,
    steps: [
      { kind: 'faults', faults: { duplicate: { next: 24 }, rateLimited: { next: 3 } } },
      rotate(0),
      rotate(1),
      rotate(2),
      rotate(0),
      rotate(1),
      { kind: 'faults', faults: { duplicate: { next: 24 }, rateLimited: { next: 2, account: 1 } } },
      rotate(2),
      rotate(0),
      settle,
      rotate(1),
    ],
  },
  'every delivery of one app dropped while another app’s are delayed behind newer ones': {
    apps: 2,
    accounts: 1,
    steps: [
      { kind: 'faults', faults: { drop: { next: 12, app: 0 }, delay: { next: 2, ms: 150, app: 1 } } },
      rotate(0),
      rotate(1),
      rotate(1),
      rotate(0),
      rotate(1),
      rotate(0),
    ],
  },
  'a 5xx burst longer than the client’s retries while a burst of rotations coalesces': {
    apps: 2,
    accounts: 2,
    steps: [
      { kind: 'faults', faults: { serverErrors: { next: 5, status: 503, app: 0 }, latencyMs: 20 } },
      rotate(0),
      rotate(0),
      rotate(0),
      rotate(1),
      rotate(0),
    ],
  },
  'slow Heroku outliving the fetch lease, releases in phases, one worker crashing idle': {
    apps: 2,
    accounts: 1,
    steps: [
      { kind: 'faults', faults: { latencyMs: 150, serverErrors: { next: 2, status: 500 } } },
      { kind: 'rotate', app: 0, phaseMs: 30 },
      { kind: 'rotate', app: 0, phaseMs: 0 },
      { kind: 'faults', faults: { delay: { next: 3, ms: 150 } } },
      rotate(0),
      { kind: 'rotate', app: 1, phaseMs: 30 },
      settle,
      { kind: 'crash', workers: 1, app: 1 },
      { kind: 'thaw' },
      rotate(1),
    ],
  },
};

describe('adversarial delivery: kept schedules', () => {
  for (const [name, schedule] of Object.entries(schedules)) {
    it(name, () => runSchedule(rig, normalizeSchedule(schedule)), 60_000);
  }
});
