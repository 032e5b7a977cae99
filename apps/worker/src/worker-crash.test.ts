import { waitFor } from '@hds/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '@hds/testkit/pipeline';

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await Pipeline.start({ workers: 0 });
});
afterAll(() => pipeline.close());

// Short locks so that a dead worker's job is taken over quickly.
const fastTakeover = { WORKER_LOCK_DURATION_MS: '1000', WORKER_STALLED_INTERVAL_MS: '500' };

describe('a worker killed with SIGKILL in the middle of a job', () => {
  it('leaves no partial commit, and the job completes on restart', async () => {
    const first = await pipeline.startWorkerProcess(fastTakeover);
    const link = await pipeline.linkedProject();
    const before = await pipeline.audit(link.projectId);
    const urlBefore = await pipeline.envValue(link.projectId);

    // Heroku does not answer before the kill, so the job is caught between its first statement and its commit.
    // (The sim logs a request when it answers, so the signal that the job is under way is the worker's own first
    // statement: the event recorded for this link and version.)
    pipeline.sim.setFaults({ api: { latencyMs: 60_000 } });
    const rotation = pipeline.sim.rotateCredentials({ app: link.app.name });
    const sql = pipeline.database.client.sql;
    await waitFor(
      async () =>
        (
          await sql`select 1 from webhook_events
            where link_id = ${link.linkId} and release_version = ${rotation.version} and processed_at is null`
        ).length > 0,
      { what: 'the worker to start the release job' },
    );
    const killed = await first.stop('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    pipeline.sim.clearFaults();

    // Nothing of the interrupted job was committed.
    expect(await pipeline.envValue(link.projectId)).toBe(urlBefore);
    expect(await pipeline.audit(link.projectId)).toHaveLength(before.length);
    expect((await pipeline.sync.getSyncStatus(link.projectId)).lastReleaseVersion).toBeLessThan(rotation.version);

    // A new worker takes the stalled job over and completes it.
    const second = await pipeline.startWorkerProcess(fastTakeover);
    await pipeline.waitForVersion(link.projectId, rotation.version, 15_000);
    expect(await pipeline.envValue(link.projectId)).toBe(rotation.databaseUrl);
    const rows = (await pipeline.audit(link.projectId)).slice(before.length);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ releaseVersion: rotation.version });
    await pipeline.eventsDrained();
    await second.stop();
  });
});
