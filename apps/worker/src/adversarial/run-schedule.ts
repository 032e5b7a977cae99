import { randomUUID } from 'node:crypto';
import type { FaultsInput } from '@hds/heroku-sim';
import { queueNames } from '@hds/queue';
import { waitFor } from '@hds/testkit';
import { checkProperty, type AppUnderTest } from './check-property.js';
import type { Rig } from './rig.js';
import { describeSchedule, type FaultPlan, type Schedule, type Step } from './schedule.js';

/** How long a crash step waits for a release job to become active before it crashes the workers anyway. */
const CRASH_WAIT_MS = 150;
const SETTLE_TIMEOUT_MS = 30_000;

/** What a schedule ran on and what happened, for tests that check the adversity really took place. */
export interface ScheduleReport {
  apps: { id: string; name: string; linkId: string }[];
  simAccountIds: string[];
  /** Per crash step: whether a release job of its app was active when the workers crashed. */
  crashes: { app: number; jobActive: boolean }[];
}

interface World extends ScheduleReport {
  tested: AppUnderTest[];
  /** The service's accounts (one per sim account). */
  accountIds: string[];
  /** The faults in force. */
  faults: FaultPlan;
}

/**
 * Plays one schedule against the rig's pipeline and checks the property; throws with every violation found
 * (and the schedule) when it does not hold. Fresh accounts, apps and projects each time; faults are cleared,
 * held deliveries sent and the queue drained at the end whatever happened, so the next schedule starts clean.
 */
export async function runSchedule(rig: Rig, schedule: Schedule): Promise<ScheduleReport> {
  let failure: Error | undefined;
  let world: World | undefined;
  try {
    world = await setUp(rig, schedule);
    for (const step of schedule.steps) await play(rig, world, step);
    await quiesce(rig);
    const violations = await reconcileAll(rig, world);
    violations.push(...(await checkProperty(rig.pipeline, world.tested)));
    if (violations.length > 0) {
      failure = new Error(
        `the property does not hold:\n${violations.map((v) => `- ${v}`).join('\n')}\nschedule: ${describeSchedule(schedule)}`,
      );
    }
  } catch (err) {
    failure = asError(err);
  }
  try {
    await quiesce(rig);
  } catch (err) {
    failure ??= asError(err);
  }
  if (failure !== undefined) throw failure;
  if (world === undefined) throw new Error('the schedule did not start');
  return { apps: world.apps, simAccountIds: world.simAccountIds, crashes: world.crashes };
}

/**
 * Fresh sim accounts (each stored once as a service account) and apps, and a project per app created with the
 * sync on, as `POST /api/projects` with `heroku` does; the projects are created concurrently.
 */
async function setUp(rig: Rig, schedule: Schedule): Promise<World> {
  const { pipeline } = rig;
  const tag = randomUUID().slice(0, 8);
  const accounts = await Promise.all(
    Array.from({ length: schedule.accounts }, async (_, i) => {
      const sim = pipeline.sim.createAccount({ email: `adversary-${tag}-${i}@example.com` });
      const { account } = await pipeline.sync.addAccount({ apiKey: sim.apiKey });
      return { simId: sim.id, id: account.id };
    }),
  );
  const tested = await Promise.all(
    Array.from({ length: schedule.apps }, async (_, i): Promise<AppUnderTest & { appId: string }> => {
      const account = accounts[i % accounts.length]!;
      const app = pipeline.sim.createApp({ name: `adv-${tag}-${i}`, accountId: account.simId });
      const project = await pipeline.sync.createProject({
        name: `adversarial ${app.name}`,
        heroku: { accountId: account.id, app: app.name },
      });
      if (project.sync.linkId === null) throw new Error('the sync was not enabled');
      return {
        projectId: project.id,
        linkId: project.sync.linkId,
        appName: app.name,
        appId: app.id,
        // A new app has one release; enabling applies it.
        baseline: { version: 1, url: app.databaseUrl },
        rotations: [],
      };
    }),
  );
  return {
    tested,
    apps: tested.map((t) => ({ id: t.appId, name: t.appName, linkId: t.linkId })),
    simAccountIds: accounts.map((a) => a.simId),
    accountIds: accounts.map((a) => a.id),
    crashes: [],
    faults: {},
  };
}

async function play(rig: Rig, world: World, step: Step): Promise<void> {
  const { pipeline } = rig;
  switch (step.kind) {
    case 'rotate': {
      const app = world.tested[step.app]!;
      const rotation = pipeline.sim.rotateCredentials({
        app: app.appName,
        ...(step.phaseMs === undefined ? {} : { releasePhase: { status: 'succeeded', afterMs: step.phaseMs } }),
      });
      app.rotations.push({ version: rotation.version, url: rotation.databaseUrl });
      return;
    }
    case 'faults':
      world.faults = step.faults;
      pipeline.sim.setFaults(simFaults(step.faults, world));
      return;
    case 'release-held':
      pipeline.sim.releaseHeldDeliveries();
      return;
    case 'settle':
      await settled(rig);
      return;
    case 'crash':
      world.crashes.push({ app: step.app, jobActive: await releaseJobActive(rig, world.tested[step.app]!.linkId) });
      await rig.crash(step.workers);
      return;
    case 'thaw':
      rig.thaw();
      return;
    case 'delete-webhook': {
      const { appName } = world.tested[step.app]!;
      for (const webhook of pipeline.sim.webhooks({ app: appName })) {
        pipeline.sim.deleteWebhook({ app: appName, webhookId: webhook.id });
      }
      return;
    }
    default:
      return assertNever(step);
  }
}

/**
 * A crash tells most while a release job is running, so the crash step waits for one of the app's link (job ids
 * start with the link id). There is no event to await for "a job became active" on a queue it did not watch
 * from the start, so it polls, for at most CRASH_WAIT_MS: when none becomes active by then (the app's deliveries
 * of the moment dropped or held, or none left), the workers crash idle, which is a case worth playing too.
 */
async function releaseJobActive(rig: Rig, linkId: string): Promise<boolean> {
  const queue = rig.pipeline.events;
  const deadline = Date.now() + CRASH_WAIT_MS;
  while (Date.now() < deadline) {
    const active = await queue.getActive();
    if (active.some((job) => job.id?.startsWith(linkId))) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return false;
}

/** The plan as heroku-sim faults: app indices become app names, account indices sim account ids. */
export function simFaults(plan: FaultPlan, world: World): FaultsInput {
  const appName = (app: number | undefined) => (app === undefined ? {} : { app: world.tested[app]!.appName });
  const deliveries: NonNullable<FaultsInput['deliveries']> = {};
  if (plan.drop) deliveries.drop = { next: plan.drop.next, ...appName(plan.drop.app) };
  if (plan.duplicate) deliveries.duplicate = { next: plan.duplicate.next, ...appName(plan.duplicate.app) };
  if (plan.delay) deliveries.delay = { next: plan.delay.next, ms: plan.delay.ms, ...appName(plan.delay.app) };
  if (plan.reorder) {
    deliveries.reorder = { next: plan.reorder.next, batch: plan.reorder.batch, ...appName(plan.reorder.app) };
  }
  const api: NonNullable<FaultsInput['api']> = {};
  if (plan.latencyMs) api.latencyMs = plan.latencyMs;
  if (plan.serverErrors) {
    api.errors = { next: plan.serverErrors.next, status: plan.serverErrors.status, ...appName(plan.serverErrors.app) };
  }
  if (plan.rateLimited) {
    const account = plan.rateLimited.account;
    api.rateLimited = {
      next: plan.rateLimited.next,
      ...(account === undefined ? {} : { accountId: world.simAccountIds[account]! }),
    };
  }
  return { deliveries, api };
}

/**
 * Deliveries and jobs have all run. First with the faults in force (the steps are played in an instant; the
 * deliveries, jobs and Heroku calls they cause happen afterwards, and the last fault set applies to them: every
 * fault has a finite `next`, so this ends), then without: faults cleared and held deliveries sent. Then crashed
 * workers still frozen wake up (last of all, where their late commits would do the most harm), and every
 * processor has finished.
 */
async function quiesce(rig: Rig): Promise<void> {
  const { pipeline } = rig;
  await settled(rig);
  pipeline.sim.clearFaults();
  await settled(rig);
  rig.thaw();
  await rig.inFlight.idle();
}

/** Every delivery under way is done (held ones do not count) and the events queue is empty. */
async function settled(rig: Rig): Promise<void> {
  await rig.pipeline.sim.settled();
  await rig.pipeline.eventsDrained(SETTLE_TIMEOUT_MS);
}

/**
 * Sweeps every account through the queue, as the scheduler's tick does, and waits for each; a sweep that finds the
 * account's budget spent (a 429 fault's rest) runs again once it is over. Returns a violation for each account
 * whose sweep did not complete.
 */
async function reconcileAll(rig: Rig, world: World): Promise<string[]> {
  const { pipeline } = rig;
  const producer = pipeline.producer;
  const queue = producer.queue(queueNames.reconcile);
  const violations: string[] = [];
  await Promise.all(
    world.accountIds.map(async (accountId) => {
      for (let attempt = 0; ; attempt += 1) {
        const jobId = `adversarial-${accountId}-${attempt}`;
        const id = await producer.add('reconcile-account', { accountId }, { jobId });
        if (id === undefined) throw new Error('the sweep job got no id');
        const state = await waitFor(
          async () => {
            const now = await queue.getJobState(id);
            return now === 'completed' || now === 'failed' ? now : undefined;
          },
          { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 10, what: `sweep job ${id}` },
        );
        const job = await queue.getJob(id);
        const result = job?.returnvalue as { outcome?: string; retryAt?: string } | undefined;
        if (state === 'completed' && result?.outcome === 'rate_limited' && attempt < 5) {
          const wait = Math.max(0, new Date(result.retryAt ?? 0).getTime() - Date.now()) + 10;
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        if (state === 'failed' || result?.outcome !== 'swept') {
          violations.push(
            `account ${accountId}: the sweep ended ${state} with ${JSON.stringify(result ?? job?.failedReason)}`,
          );
        }
        return;
      }
    }),
  );
  await rig.inFlight.idle();
  return violations;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function assertNever(value: never): never {
  throw new Error(`unexpected step ${JSON.stringify(value)}`);
}
