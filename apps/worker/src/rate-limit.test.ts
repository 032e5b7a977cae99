import { waitFor } from '@hds/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '@hds/testkit/pipeline';

let pipeline: Pipeline;
beforeAll(async () => {
  // One job at a time: if a rate-limited job held its slot, every other account would wait behind it.
  pipeline = await Pipeline.start({ concurrency: 1, sync: { rateLimitBackoffMs: 250 } });
});
afterAll(() => pipeline.close());

describe('a 429 on one account', () => {
  it('delays that account’s work without using attempts, and does not delay another account', async () => {
    const limited = await pipeline.linkedProject();
    const other = await pipeline.linkedProject();
    pipeline.sim.setFaults({ budgets: [{ accountId: limited.simAccountId, remaining: 0, refillPerMinute: 0 }] });

    const blocked = pipeline.sim.rotateCredentials({ app: limited.app.name });
    await pipeline.sim.settled();
    const events = pipeline.events;
    const delayedJob = await waitFor(
      async () => (await events.getDelayed()).find((job) => job.data.linkId === limited.linkId),
      { what: 'the rate-limited job to be delayed' },
    );
    expect(delayedJob.failedReason ?? '').toBe('');
    expect(delayedJob.attemptsMade).toBe(0);

    const fine = pipeline.sim.rotateCredentials({ app: other.app.name });
    await pipeline.sim.settled();
    await pipeline.waitForVersion(other.projectId, fine.version, 3000);
    expect(await pipeline.envValue(other.projectId)).toBe(fine.databaseUrl);
    expect((await pipeline.sync.getSyncStatus(limited.projectId)).lastReleaseVersion).toBeLessThan(blocked.version);
    // The limited account's rest is known, so its jobs wait without asking Heroku again and again.
    const limitedCalls = pipeline.sim.requests({ accountId: limited.simAccountId, status: 429 });
    expect(limitedCalls.length).toBeLessThanOrEqual(3);

    // Budget back: the waiting release is applied, and its job never counted a failed attempt.
    pipeline.sim.setFaults({ budgets: [{ accountId: limited.simAccountId, remaining: 4500, refillPerMinute: 75 }] });
    await pipeline.waitForVersion(limited.projectId, blocked.version, 5000);
    expect(await pipeline.envValue(limited.projectId)).toBe(blocked.databaseUrl);
    const failed = await events.getFailed();
    expect(failed.filter((job) => job.data.linkId === limited.linkId)).toEqual([]);
  });
});
