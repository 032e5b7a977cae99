import { webhookEvents } from '@hds/db';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline, type LinkedProject } from '@hds/testkit/pipeline';

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await Pipeline.start({ workers: 0 });
});
afterAll(() => pipeline.close());

const APPS = 20;
const ROTATIONS_PER_APP = 5;

describe('three worker processes', () => {
  it('fed 200 events for 20 apps apply each app’s newest release exactly once', async () => {
    const workers = await Promise.all([1, 2, 3].map(() => pipeline.startWorkerProcess({ WORKER_CONCURRENCY: '8' })));
    const links: LinkedProject[] = [];
    for (let account = 0; account < 4; account += 1) {
      const first = await pipeline.linkedProject();
      links.push(first);
      for (let i = 1; i < APPS / 4; i += 1) {
        links.push(await pipeline.linkedProject({ simAccountId: first.simAccountId, apiKey: first.apiKey }));
      }
    }
    const baseline = new Map(
      await Promise.all(links.map(async (l) => [l.projectId, (await pipeline.audit(l.projectId)).length] as const)),
    );
    pipeline.sim.clearRequests();

    // Interleaved bursts: every app rotates 5 times; each rotation delivers create + update = 200 events.
    for (let round = 0; round < ROTATIONS_PER_APP; round += 1) {
      for (const link of links) pipeline.sim.rotateCredentials({ app: link.app.name });
    }
    await pipeline.sim.settled();
    const delivered = pipeline.sim
      .deliveries()
      .filter((d) => links.some((l) => l.app.id === d.app.id) && d.releaseVersion! > 1);
    expect(delivered).toHaveLength(APPS * ROTATIONS_PER_APP * 2);

    const newest = 1 + ROTATIONS_PER_APP;
    await Promise.all(links.map((l) => pipeline.waitForVersion(l.projectId, newest, 30_000)));
    await pipeline.eventsDrained(30_000);

    for (const link of links) {
      expect(await pipeline.envValue(link.projectId)).toBe(
        pipeline.sim.configVars({ app: link.app.name }).DATABASE_URL,
      );
      const rows = (await pipeline.audit(link.projectId)).slice(baseline.get(link.projectId));
      const versions = rows.map((r) => r.releaseVersion!);
      expect(versions.filter((v) => v === newest)).toHaveLength(1); // the newest exactly once
      expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b)); // never twice, never backwards
      // One config fetch per applied release, never more.
      const fetches = pipeline.sim
        .requests({ path: `/apps/${link.app.id}/releases/` })
        .filter((r) => r.path.endsWith('/config-vars'));
      expect(fetches.length).toBe(versions.length);
    }

    // Every release was one job (its create and update share a job id), recorded once and decided.
    const events = await pipeline.database.client.db
      .select()
      .from(webhookEvents)
      .where(
        inArray(
          webhookEvents.linkId,
          links.map((l) => l.linkId),
        ),
      );
    expect(events).toHaveLength(APPS * ROTATIONS_PER_APP);
    expect(events.filter((e) => e.outcome === null)).toEqual([]);
    // The work was shared between the processes.
    const busy = workers.filter((w) => w.lines.some((line) => line.includes('"release applied')));
    expect(busy.length).toBeGreaterThanOrEqual(2);
    await Promise.all(workers.map((w) => w.stop()));
  }, 90_000);
});
