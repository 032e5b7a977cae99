// A worker dies in the middle of a burst of rotations; another one starts; every app ends on its newest URL.
import type { SimApp, Stack } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { appName, eventually, useStack } from './support/use-stack.js';

// Short locks, so the dead worker's jobs are taken over within seconds; no scheduled reconcile, so that only
// the queue (not the reconciler) can bring the projects up to date.
const stack = useStack({
  workers: 1,
  workerEnv: { WORKER_LOCK_DURATION_MS: '1000', WORKER_STALLED_INTERVAL_MS: '500', RECONCILE_TICK_MS: '3600000' },
});

const APPS = 6;
const ROUNDS = 4;

interface Linked {
  app: SimApp;
  projectId: string;
}

/** Jobs of the `heroku-events` queue that a worker holds now, as Bull Board (on the admin) shows them. */
async function activeEventJobs(s: Stack): Promise<number> {
  const res = await fetch(`${s.adminUrl}/admin/queues/api/queues`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${s.adminToken}`).toString('base64')}` },
  });
  const body = (await res.json()) as { queues: Array<{ name: string; counts: Record<string, number> }> };
  return body.queues.find((q) => q.name === 'heroku-events')?.counts.active ?? 0;
}

async function linkApps(s: Stack): Promise<Linked[]> {
  const linked: Linked[] = [];
  for (const owner of ['one', 'two']) {
    const simAccount = await s.sim.createAccount({ email: `${owner}@example.com` });
    const account = await s.admin.addAccount(simAccount.apiKey);
    for (let i = 0; i < APPS / 2; i += 1) {
      const app = await s.sim.createApp({ name: appName(`burst-${owner}`), accountId: simAccount.id });
      const project = await s.admin.createProject({
        name: app.name,
        heroku: { accountId: account.id, app: app.name },
      });
      linked.push({ app, projectId: project.id });
    }
  }
  return linked;
}

describe('a worker restart in the middle of a burst', () => {
  // The dead worker's jobs hold their links' fetch leases (60 s): only taking its jobs over (after the 1 s lock)
  // lets the new worker finish within the deadline.
  it('SIGKILL one worker while it fetches, start another: every rotation is applied, in order, once', async () => {
    const s = stack();
    const linked = await linkApps(s);
    const rotate = () => Promise.all(linked.map((l) => s.sim.rotateCredentials(l.app.name)));

    // Heroku answers config fetches only after 5 s, so the only worker is caught with its fetches under way:
    // Bull Board shows its jobs active. Then it dies.
    await s.sim.setFaults({ api: { latencyMs: 5000 } });
    await rotate();
    await eventually('the worker to work on every app’s release', async () => (await activeEventJobs(s)) >= APPS);
    const killed = await s.kill('worker-1');
    expect(killed.signal).toBe('SIGKILL');
    // Nothing was applied (no fetch was answered yet): every project is behind.
    const behind = await Promise.all(
      linked.map(async (l) => (await s.admin.syncStatus(l.projectId)).lastReleaseVersion),
    );
    expect(behind).toEqual(linked.map(() => 1));

    // The burst goes on with no worker: the ingress keeps accepting, the jobs wait in Redis.
    await s.sim.clearFaults();
    await rotate();
    const replacement = await s.startWorker();
    expect(replacement.name).toBe('worker-2');
    for (let round = 3; round <= ROUNDS; round += 1) await rotate();

    const newest = 1 + ROUNDS;
    const current = await Promise.all(linked.map(async (l) => (await s.sim.configVars(l.app.name)).DATABASE_URL));
    await Promise.all(
      linked.map((l, i) =>
        eventually(
          `${l.app.name} to reach v${newest}`,
          async () => (await s.admin.envValue(l.projectId)) === current[i],
          30_000,
        ),
      ),
    );

    for (const l of linked) {
      expect(await s.admin.syncStatus(l.projectId)).toMatchObject({
        state: 'active',
        lastReleaseVersion: newest,
        lastError: null,
      });
      const versions = (await s.admin.audit(l.projectId))
        .filter((e) => e.action === 'env_synced')
        .map((e) => e.releaseVersion!)
        .reverse();
      // Never twice, never backwards, and the newest release last (quick successive ones may be applied as one).
      expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
      expect(versions[0]).toBe(1);
      expect(versions.at(-1)).toBe(newest);
    }
    // Every delivery reached the ingress; the second worker did the rest of the work.
    expect(await s.sim.settled()).toBe(true);
    const deliveries = (await Promise.all(linked.map((l) => s.sim.deliveries({ app: l.app.name })))).flat();
    expect(deliveries.filter((d) => d.status !== 'succeeded')).toEqual([]);
    expect(deliveries).toHaveLength(APPS * ROUNDS * 2);
    expect(replacement.logLines.some((line) => line.includes('"msg":"release applied"'))).toBe(true);
  });
});
