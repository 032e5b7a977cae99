import { herokuAccounts } from '@hds/db';
import { waitFor } from '@hds/testkit';
import { Pipeline } from '@hds/testkit/pipeline';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let pipeline: Pipeline;
beforeAll(async () => {
  // Sweeps every 200 ms at most; a budget of 180,000 requests an hour gives the reconciler 5 calls a second.
  // Releases without their delivery lead to a webhook check after 300 ms; routine checks wait a day.
  pipeline = await Pipeline.start({
    reconcileTickMs: 100,
    sync: { reconcileMinIntervalMs: 200, accountHourlyBudget: 180_000, webhookGraceMs: 300 },
  });
});
afterAll(() => pipeline.close());

/** `count` apps of one sim account, each synced to a project of its own. */
async function linkedApps(count: number) {
  const first = await pipeline.linkedProject({ prefix: 'sweep' });
  const rest = [];
  for (let i = 1; i < count; i += 1) {
    rest.push(
      await pipeline.linkedProject({ prefix: 'sweep', simAccountId: first.simAccountId, apiKey: first.apiKey }),
    );
  }
  return [first, ...rest];
}

describe('sweeps', () => {
  it('bring every link to its newest release when every delivery is dropped', async () => {
    const links = await linkedApps(12);
    const simAccountId = links[0]!.simAccountId;
    pipeline.sim.setFaults({ deliveries: { drop: { rate: 1 } } });
    try {
      const newest = new Map<string, { version: number; databaseUrl: string }>();
      // One to three rotations per app, some in the same second.
      for (const [i, link] of links.entries()) {
        for (let r = 0; r <= i % 3; r += 1)
          newest.set(link.projectId, pipeline.sim.rotateCredentials({ app: link.app.name }));
      }
      await pipeline.sim.settled();
      expect(pipeline.sim.deliveries().some((d) => d.status === 'succeeded')).toBe(false);
      for (const link of links) {
        const rotation = newest.get(link.projectId)!;
        await pipeline.waitForVersion(link.projectId, rotation.version);
        expect(await pipeline.envValue(link.projectId)).toBe(rotation.databaseUrl);
      }
      // Each app's newest releases were read, and only its newest release's config fetched.
      const fetched = pipeline.sim
        .requests()
        .filter((r) => r.accountId === simAccountId && /\/releases\/\d+\/config-vars$/.test(r.path));
      const enableFetches = links.length;
      expect(fetched.length).toBe(enableFetches + links.length);
      // The webhooks were checked on the evidence of the lost deliveries.
      await waitFor(
        () =>
          links.every((link) =>
            pipeline.sim
              .requests()
              .some((r) => r.method === 'GET' && r.path.startsWith(`/apps/${link.app.id}/webhooks/`)),
          ),
        { what: 'a webhook check of each link' },
      );
    } finally {
      pipeline.sim.clearFaults();
    }
  });

  it('do not burst when many apps are linked: the next sweep reads the app list and nothing else', async () => {
    // The apps released a while ago (the sim's clock is a minute behind), as apps being linked usually have.
    const linking = await Pipeline.start({
      reconcileTickMs: 100,
      sim: { clock: () => Date.now() - 60_000 },
      sync: { reconcileMinIntervalMs: 200, accountHourlyBudget: 180_000 },
    });
    try {
      const first = await linking.linkedProject({ prefix: 'burst' });
      for (let i = 1; i < 30; i += 1) {
        await linking.linkedProject({ prefix: 'burst', simAccountId: first.simAccountId, apiKey: first.apiKey });
      }
      const linkedAt = Date.now();
      linking.sim.clearRequests();
      const sweptSince = async () => {
        const [row] = await linking.sync.ctx.db
          .select({ at: herokuAccounts.lastSweptAt })
          .from(herokuAccounts)
          .where(eq(herokuAccounts.id, first.accountId));
        return row?.at !== null && row?.at !== undefined && row.at.getTime() > linkedAt ? true : undefined;
      };
      await waitFor(sweptSince, { what: 'a sweep after the links were made' });
      const after = linking.sim.requests().filter((r) => r.accountId === first.simAccountId);
      expect(after.length).toBeGreaterThan(0);
      expect(after.map((r) => `${r.method} ${r.path}`)).toEqual(after.map(() => 'GET /apps'));
      // What the next sweep waits for in its bucket: the one page it took to see the 30 apps.
      const [account] = await linking.sync.ctx.db
        .select({ listCalls: herokuAccounts.lastSweepListCalls })
        .from(herokuAccounts)
        .where(eq(herokuAccounts.id, first.accountId));
      expect(account?.listCalls).toBe(1);
    } finally {
      await linking.close();
    }
  });

  it('check a webhook routinely once its interval has passed, and re-create it', async () => {
    const routine = await Pipeline.start({
      reconcileTickMs: 100,
      sync: { reconcileMinIntervalMs: 200, accountHourlyBudget: 180_000, webhookCheckIntervalMs: 500 },
    });
    try {
      const link = await routine.linkedProject();
      const [original] = routine.sim.webhooks({ app: link.app.name });
      routine.sim.deleteWebhook({ app: link.app.name, webhookId: original!.id });
      const recreated = await waitFor(() => routine.sim.webhooks({ app: link.app.name })[0], {
        what: 'a new webhook',
      });
      expect(recreated.id).not.toBe(original!.id);
    } finally {
      await routine.close();
    }
  });
});
