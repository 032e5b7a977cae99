// Heroku's API goes down while credentials rotate, then comes back: the links recover by themselves.
//
// In production an outage of a minute outlasts a job's first attempts, not all twelve (about an hour); what must
// hold is that nothing depends on a job surviving the outage. So here release-event jobs get 3 attempts 200 ms apart,
// and the outage lasts until every one of them has failed for good (seconds, standing for the minute): whatever
// brings the links up to date afterwards can only be the reconciler, and the audit log says it was.
//
// The sim runs in-process so that its state outlives the outage: its HTTP server closes (connection refused) and
// listens again on the same port. Webhook delivery keeps working for two apps, so their deliveries become jobs
// that fail; the third app's deliveries are lost (dropped), as when Heroku cannot send them at all.
import { releaseEventJobId } from '@hds/queue';
import { waitFor } from '@hds/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '@hds/testkit/pipeline';

const ATTEMPTS = 3;

let pipeline: Pipeline | undefined;
beforeAll(async () => {
  pipeline = await Pipeline.start({
    sim: { retryScheduleMs: [50, 100] },
    heroku: { retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 }, timeoutMs: 2000 },
    releaseEventRetry: { attempts: ATTEMPTS, backoff: { type: 'fixed', delay: 200 } },
    reconcileTickMs: 200,
    // Every account's whole budget for the reconciler: a one-link account's link is due every 1.6 s.
    sync: { reconcileBudgetShare: 1, reconcileMinIntervalMs: 500 },
    concurrency: 8,
    poolSize: 10,
  });
});
afterAll(async () => {
  await pipeline?.close();
});

describe('heroku-sim down, then back', () => {
  it('marks the links while Heroku is down and brings them to the newest release afterwards, by the reconciler', async () => {
    const p = pipeline!;
    const delivered = [
      await p.linkedProject({ prefix: 'delivered-a' }),
      await p.linkedProject({ prefix: 'delivered-b' }),
    ];
    const lost = await p.linkedProject({ prefix: 'lost' });
    const all = [...delivered, lost];
    const before = await Promise.all(all.map((l) => p.envValue(l.projectId)));

    await p.takeHerokuDown();
    await expect(fetch(`${p.simUrl}/account`)).rejects.toThrow();
    p.sim.setFaults({ deliveries: { drop: { rate: 1, app: lost.app.name } } });
    const rotations = all.map((l) => p.sim.rotateCredentials({ app: l.app.name }));
    await p.sim.settled();

    // Every attempt of the delivered releases' jobs fails, and the links say so.
    const jobIds = delivered.map((l, i) =>
      releaseEventJobId({ linkId: l.linkId, appId: l.app.id, version: rotations[i]!.version, status: 'succeeded' }),
    );
    await waitFor(
      async () => {
        const states = await Promise.all(jobIds.map(async (id) => (await p.events.getJob(id))?.getState()));
        return states.every((state) => state === 'failed');
      },
      { what: 'every release-event job to fail its last attempt', timeoutMs: 15_000 },
    );
    for (const id of jobIds) expect((await p.events.getJob(id))?.attemptsMade).toBe(ATTEMPTS);
    for (const l of delivered) {
      const status = await waitFor(
        async () => {
          const s = await p.sync.getSyncStatus(l.projectId);
          return s.state === 'error' && s;
        },
        { what: `the link of ${l.app.name} to show the failure` },
      );
      // "gave up after 3 attempts: ... ECONNREFUSED", or the reconciler's newer failure, equally refused.
      expect(status.lastError).toMatch(/Heroku GET .* failed: network: connect ECONNREFUSED/);
    }
    // The lost release had no job; the reconciler's own checks fail meanwhile, and the link shows why.
    const lostStatus = await waitFor(
      async () => {
        const s = await p.sync.getSyncStatus(lost.projectId);
        return s.lastError !== null && s;
      },
      { what: 'the reconciler to record that Heroku does not answer' },
    );
    expect(lostStatus.lastError).toMatch(/Heroku GET .* failed: network: connect ECONNREFUSED/);
    expect(lostStatus.lastReleaseVersion).toBeLessThan(rotations[2]!.version);
    expect(await Promise.all(all.map((l) => p.envValue(l.projectId)))).toEqual(before);

    await p.bringHerokuBack();
    p.sim.clearFaults();

    for (const [i, l] of all.entries()) {
      await waitFor(
        async () => {
          const s = await p.sync.getSyncStatus(l.projectId);
          return s.state === 'active' && s.lastError === null && s.lastReleaseVersion === rotations[i]!.version;
        },
        { what: `the link of ${l.app.name} to recover`, timeoutMs: 20_000 },
      );
      expect(await p.envValue(l.projectId)).toBe(rotations[i]!.databaseUrl);
      const entries = await p.sync.listAudit(l.projectId, { limit: 50 });
      const [synced] = entries.filter((e) => e.action === 'env_synced');
      expect(synced).toMatchObject({ releaseVersion: rotations[i]!.version, actor: 'reconciler' });
    }
    // The failed jobs stayed failed: no retry brought the links back.
    for (const id of jobIds) {
      const job = await p.events.getJob(id);
      expect(await job?.getState()).toBe('failed');
      expect(job?.attemptsMade).toBe(ATTEMPTS);
    }
    for (const l of delivered) {
      const changes = (await p.sync.listAudit(l.projectId, { limit: 50 })).filter((e) => e.action === 'state_changed');
      expect(changes[0]).toMatchObject({ detail: expect.objectContaining({ from: 'error', to: 'active' }) });
    }
  });
});
