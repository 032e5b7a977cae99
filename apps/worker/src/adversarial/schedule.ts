import fc from 'fast-check';

/**
 * An adversarial schedule: a few apps (each synced to its own project, on one or two Heroku accounts) and a
 * sequence of steps played against the real pipeline. Apps and accounts are indices; the runner gives each
 * schedule fresh ones. Faults use only `next` selectors (never `rate`), so a schedule means the same thing
 * whatever ran before it on the shared pipeline, and a kept counterexample replays on its own.
 */
export interface Schedule {
  /** 2–4 apps. */
  apps: number;
  /** 1–2 accounts; app i belongs to account i % accounts. */
  accounts: number;
  steps: Step[];
}

export type Step =
  /**
   * A Heroku Postgres credential rotation of app `app`: a new URL, a release, its webhooks. With `phaseMs`, the
   * release has a release phase: `pending` (its create and update events), then `succeeded` after `phaseMs`
   * (a last update event): only that one may be applied.
   */
  | { kind: 'rotate'; app: number; phaseMs?: number }
  /**
   * Replaces every fault in force (as heroku-sim's `setFaults` does; its `next` counters start again). Steps are
   * played in an instant: delivery faults are drawn when a release is made, but API faults hit the Heroku calls
   * made while they are in force, so a fault set replaced before a `settle` may see no call at all.
   */
  | { kind: 'faults'; faults: FaultPlan }
  /** Sends the deliveries the reorder fault holds, newest first. */
  | { kind: 'release-held' }
  /** Waits until the sim has nothing under way and the events queue is empty. */
  | { kind: 'settle' }
  /**
   * Crashes `workers` of the two worker runtimes (the oldest first) while a release job of app `app` is active,
   * if one becomes active soon, and starts as many new ones. A crashed runtime's processors freeze at their next
   * Heroku answer until a `thaw` step or the end of the schedule (`freezable-sync.ts`).
   */
  | { kind: 'crash'; workers: 1 | 2; app: number }
  /** The crashed runtimes' processors wake up and go on with what they were doing. */
  | { kind: 'thaw' }
  /** Someone deletes app `app`'s webhook on the dashboard: its later releases are not delivered at all. */
  | { kind: 'delete-webhook'; app: number };

/** Which deliveries a fault hits: the next `next` of them, of app `app` or of any app. */
export interface DeliverySelector {
  next: number;
  app?: number;
}

export interface FaultPlan {
  /** Never sent, never retried: a lost webhook. */
  drop?: DeliverySelector;
  /** Sent twice, byte for byte. */
  duplicate?: DeliverySelector;
  /** Sent `ms` later; later deliveries overtake it. */
  delay?: DeliverySelector & { ms: number };
  /** Held; once `batch` are held they go out newest first. */
  reorder?: DeliverySelector & { batch: number };
  /** The next `next` Platform API calls (of app `app`, or any) answer a 5xx. */
  serverErrors?: { next: number; status: number; app?: number };
  /** The next `next` Platform API calls of account `account` (or any) answer 429. */
  rateLimited?: { next: number; account?: number };
  /** Added before every Platform API answer. */
  latencyMs?: number;
}

export const LIMITS = { minApps: 2, maxApps: 4, maxRotationsPerApp: 6, maxSteps: 16, maxCrashes: 1 } as const;

const appIndex = fc.nat({ max: LIMITS.maxApps - 1 });
const deliverySelector = (maxNext: number) =>
  fc.record({ next: fc.integer({ min: 1, max: maxNext }), app: appIndex }, { requiredKeys: ['next'] });

/** Present in about one fault set in three: Heroku faults cost time (retries, rests), so they come sparingly. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

export const faultPlanArb: fc.Arbitrary<FaultPlan> = fc
  .record({
    drop: fc.option(deliverySelector(4), { nil: undefined }),
    duplicate: fc.option(deliverySelector(6), { nil: undefined }),
    delay: fc.option(
      fc.record(
        { next: fc.integer({ min: 1, max: 3 }), app: appIndex, ms: fc.constantFrom(20, 60, 150) },
        { requiredKeys: ['next', 'ms'] },
      ),
      { nil: undefined },
    ),
    reorder: fc.option(
      fc.record(
        { next: fc.integer({ min: 2, max: 6 }), app: appIndex, batch: fc.integer({ min: 2, max: 4 }) },
        { requiredKeys: ['next', 'batch'] },
      ),
      { nil: undefined },
    ),
    // Up to two in a row are absorbed by the client's own retries; three or more fail a job, which BullMQ retries
    // after its backoff (up to a second): the long bursts are the rarer ones.
    serverErrors: sometimes(
      fc.record(
        { next: fc.constantFrom(1, 2, 2, 3, 5), status: fc.constantFrom(500, 502, 503), app: appIndex },
        { requiredKeys: ['next', 'status'] },
      ),
    ),
    rateLimited: sometimes(
      fc.record({ next: fc.integer({ min: 1, max: 3 }), account: fc.nat({ max: 1 }) }, { requiredKeys: ['next'] }),
    ),
    // 80 ms is longer than the rig's fetch lease (50 ms): fetches of one link then overlap.
    latencyMs: sometimes(fc.constantFrom(20, 80)),
  })
  .map((plan) => Object.fromEntries(Object.entries(plan).filter(([, v]) => v !== undefined)) as FaultPlan);

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record(
      { kind: fc.constant('rotate' as const), app: appIndex, phaseMs: fc.constantFrom(0, 30) },
      { requiredKeys: ['kind', 'app'] },
    ),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('faults' as const), faults: faultPlanArb }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'release-held' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'settle' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'thaw' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete-webhook' as const), app: appIndex }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('crash' as const),
      workers: fc.constantFrom(1 as const, 2 as const),
      app: appIndex,
    }),
  },
);

/**
 * Makes any step list a schedule within the limits: app and account indices wrap around, rotations beyond
 * `maxRotationsPerApp` of an app and crashes beyond `maxCrashes` are left out, and an app that was never rotated
 * gets one rotation at the end (every app sees 1–6 rotations).
 */
export function normalizeSchedule(input: Schedule): Schedule {
  const apps = Math.min(Math.max(input.apps, LIMITS.minApps), LIMITS.maxApps);
  const accounts = Math.min(Math.max(input.accounts, 1), 2);
  const rotations = new Array<number>(apps).fill(0);
  let crashes = 0;
  const wrapApp = (app: number | undefined) => (app === undefined ? undefined : app % apps);
  const steps: Step[] = [];
  for (const step of input.steps) {
    switch (step.kind) {
      case 'rotate': {
        const app = step.app % apps;
        if (rotations[app]! >= LIMITS.maxRotationsPerApp) continue;
        rotations[app]! += 1;
        steps.push(
          step.phaseMs === undefined ? { kind: 'rotate', app } : { kind: 'rotate', app, phaseMs: step.phaseMs },
        );
        break;
      }
      case 'faults': {
        const f = step.faults;
        const plan: FaultPlan = {};
        if (f.drop) plan.drop = withApp(f.drop, wrapApp(f.drop.app));
        if (f.duplicate) plan.duplicate = withApp(f.duplicate, wrapApp(f.duplicate.app));
        if (f.delay) plan.delay = withApp(f.delay, wrapApp(f.delay.app));
        if (f.reorder) plan.reorder = withApp(f.reorder, wrapApp(f.reorder.app));
        if (f.serverErrors) plan.serverErrors = withApp(f.serverErrors, wrapApp(f.serverErrors.app));
        if (f.rateLimited) {
          const { account, ...rest } = f.rateLimited;
          plan.rateLimited = account === undefined ? rest : { ...rest, account: account % accounts };
        }
        if (f.latencyMs !== undefined) plan.latencyMs = f.latencyMs;
        steps.push({ kind: 'faults', faults: plan });
        break;
      }
      case 'crash':
        if (crashes >= LIMITS.maxCrashes) continue;
        crashes += 1;
        steps.push({ ...step, app: step.app % apps });
        break;
      case 'delete-webhook':
        steps.push({ kind: 'delete-webhook', app: step.app % apps });
        break;
      case 'release-held':
      case 'settle':
      case 'thaw':
        steps.push(step);
        break;
      default:
        return assertNever(step);
    }
  }
  rotations.forEach((count, app) => {
    if (count === 0) steps.push({ kind: 'rotate', app });
  });
  return { apps, accounts, steps };
}

function withApp<T extends { app?: number }>(selector: T, app: number | undefined): T {
  const { app: _dropped, ...rest } = selector;
  return (app === undefined ? rest : { ...rest, app }) as T;
}

function assertNever(value: never): never {
  throw new Error(`unexpected step ${JSON.stringify(value)}`);
}

export const scheduleArb: fc.Arbitrary<Schedule> = fc
  .record({
    apps: fc.integer({ min: LIMITS.minApps, max: LIMITS.maxApps }),
    accounts: fc.integer({ min: 1, max: 2 }),
    steps: fc.array(stepArb, { minLength: 1, maxLength: LIMITS.maxSteps }),
  })
  .map(normalizeSchedule);

/** A schedule in one line per step, for failure messages and kept regressions. */
export function describeSchedule(schedule: Schedule): string {
  const lines = schedule.steps.map((step, i) => `  ${i + 1}. ${JSON.stringify(step)}`);
  return `${schedule.apps} apps on ${schedule.accounts} account(s):\n${lines.join('\n')}`;
}
