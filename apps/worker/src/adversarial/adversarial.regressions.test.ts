/**
 * Named hard schedules for the adversarial property, played by the same runner as
 * `adversarial.property.test.ts` (read its header for the pipeline, the steps and the property). Hand-written
 * ones aim at the places where the guards matter, and each also checks that its adversity really happened (the
 * faults hit, the crash caught a job), so that it cannot pass by playing an easy schedule. Shrunk counterexamples
 * found by the property test are kept here too, each named after what it broke; none has been found so far.
 */
import type { DeliveryView } from '@hds/heroku-sim';
import { releaseEventJobId } from '@hds/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRig, type Rig } from './rig.js';
import { runSchedule, type ScheduleReport } from './run-schedule.js';
import { normalizeSchedule, type Schedule, type Step } from './schedule.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(() => rig.close());

const rotate = (app: number): Step => ({ kind: 'rotate', app });
const settle: Step = { kind: 'settle' };

function deliveriesWith(report: ScheduleReport, app: number, fault: DeliveryView['faults'][number]) {
  return rig.pipeline.sim.deliveries({ app: report.apps[app]!.name }).filter((d) => d.faults.includes(fault));
}

function answered(report: ScheduleReport, filter: { status: number; app?: number }) {
  return rig.pipeline.sim
    .requests({ status: filter.status })
    .filter((r) =>
      filter.app === undefined
        ? r.accountId !== null && report.simAccountIds.includes(r.accountId)
        : r.path.startsWith(`/apps/${report.apps[filter.app]!.id}/`) ||
          r.path.startsWith(`/apps/${report.apps[filter.app]!.name}/`),
    );
}

interface Case {
  schedule: Schedule;
  /** Checks that the schedule's adversity took place. */
  happened: (report: ScheduleReport) => Promise<void> | void;
}

const cases: Record<string, Case> = {
  'releases delivered 3, 5, 4, with both workers crashing mid-fetch of 5 and the crashed ones committing last': {
    schedule: {
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
        rotate(0), // v6, while the crashed workers are frozen
        rotate(1),
      ],
    },
    happened: async (report) => {
      expect(deliveriesWith(report, 0, 'held')).toHaveLength(4);
      expect(report.crashes).toEqual([{ app: 0, jobActive: true }]);
      // The job the crash caught was taken over by a new worker as stalled.
      const queue = rig.pipeline.events;
      const { linkId, id: appId } = report.apps[0]!;
      const jobs = await Promise.all(
        [4, 5].map((version) => queue.getJob(releaseEventJobId({ linkId, appId, version, status: 'succeeded' }))),
      );
      expect(jobs.some((job) => (job?.stalledCounter ?? 0) > 0)).toBe(true);
    },
  },
  'a 429 burst during a duplicate storm, on both accounts': {
    schedule: {
      apps: 3,
      accounts: 2,
      steps: [
        { kind: 'faults', faults: { duplicate: { next: 24 }, rateLimited: { next: 3 } } },
        rotate(0),
        rotate(1),
        rotate(2),
        rotate(0),
        rotate(1),
        settle, // the first 429s hit while these are processed
        { kind: 'faults', faults: { duplicate: { next: 24 }, rateLimited: { next: 2, account: 1 } } },
        rotate(2),
        rotate(0),
        settle,
        rotate(1),
      ],
    },
    happened: (report) => {
      expect(answered(report, { status: 429 }).length).toBeGreaterThanOrEqual(5);
      for (const app of [0, 1, 2]) expect(deliveriesWith(report, app, 'duplicated').length).toBeGreaterThan(0);
    },
  },
  'every delivery of one app dropped while another app’s are delayed behind newer ones': {
    schedule: {
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
    happened: (report) => {
      const app0 = rig.pipeline.sim.deliveries({ app: report.apps[0]!.name });
      expect(app0.length).toBe(6);
      expect(app0.every((d) => d.status === 'dropped')).toBe(true);
      expect(deliveriesWith(report, 1, 'delayed')).toHaveLength(2);
    },
  },
  'a 5xx burst longer than the client’s retries while a burst of rotations coalesces': {
    schedule: {
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
    happened: (report) => {
      expect(answered(report, { status: 503, app: 0 })).toHaveLength(5);
    },
  },
  'slow Heroku outliving the fetch lease, releases in phases, a deleted webhook, a worker crashing idle': {
    schedule: {
      apps: 2,
      accounts: 1,
      steps: [
        { kind: 'faults', faults: { latencyMs: 150, serverErrors: { next: 2, status: 500 } } },
        { kind: 'rotate', app: 0, phaseMs: 30 },
        { kind: 'rotate', app: 0, phaseMs: 0 },
        { kind: 'delete-webhook', app: 1 },
        settle, // the 500s and the latency hit while these are processed
        { kind: 'faults', faults: { delay: { next: 3, ms: 150 } } },
        rotate(0),
        { kind: 'rotate', app: 1, phaseMs: 30 },
        settle,
        { kind: 'crash', workers: 1, app: 1 },
        { kind: 'thaw' },
        rotate(1),
      ],
    },
    happened: (report) => {
      expect(answered(report, { status: 500 })).toHaveLength(2);
      expect(
        rig.pipeline.sim.deliveries({ app: report.apps[1]!.name }).filter((d) => (d.releaseVersion ?? 0) > 1),
      ).toEqual([]);
      expect(report.crashes).toEqual([{ app: 1, jobActive: false }]);
    },
  },
};

describe('adversarial delivery: kept schedules', () => {
  for (const [name, { schedule, happened }] of Object.entries(cases)) {
    it(
      name,
      async () => {
        const report = await runSchedule(rig, normalizeSchedule(schedule));
        await happened(report);
      },
      60_000,
    );
  }
});
