import { herokuLinks } from '@hds/db';
import { createTestDatabase, type TestDatabase } from '@hds/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { releaseJob, startSimSync, type SimSync } from './test-support/sim-sync.js';

let database: TestDatabase;
let env: SimSync;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());
beforeEach(async () => {
  env = await startSimSync(database);
});
afterEach(() => env.close());

const linkRow = async (projectId: string) =>
  (await database.client.db.select().from(herokuLinks).where(eq(herokuLinks.projectId, projectId)))[0]!;

/** A project synced with app A (at release 1), and an app B of the same account it will move to. */
async function projectOnA() {
  const { accountId, apps } = await env.account(2);
  const [a, b] = apps as [(typeof apps)[0], (typeof apps)[0]];
  const project = await env.service.createProject({ name: 'moving', heroku: { accountId, app: a.name } });
  return { accountId, a, b, projectId: project.id, linkId: project.sync.linkId! };
}

describe('a link moved to another app while work for the old app runs (issue 17, defect 1)', () => {
  it("refuses the old app's commit: the new app's URL stays, and its releases are not taken for stale", async () => {
    const { accountId, a, b, projectId, linkId } = await projectOnA();
    for (let i = 0; i < 3; i += 1) env.sim.rotateCredentials({ app: a.name });
    const a5 = env.sim.rotateCredentials({ app: a.name });
    expect(a5.version).toBe(5);

    // A worker fetches A's release 5; Heroku's answer is held while the link moves to B.
    env.gate.hold((r) => r.path === `/apps/${a.id}/releases/5/config-vars`);
    const event = env.service.processReleaseEvent(releaseJob({ linkId, appId: a.id, version: 5 }), 'worker-1');
    await env.gate.waitForHeld(1);
    await env.service.enableSync({ projectId, accountId, app: b.name });
    env.gate.releaseAll();
    expect(await event).toMatchObject({ outcome: 'ignored' });

    expect(await env.envValue(projectId)).toBe(b.databaseUrl);
    expect(await linkRow(projectId)).toMatchObject({ appId: b.id, appliedVersion: 1, targetVersion: 1 });
    // B's release 2 is applied, not dropped as "not newer" than A's 5.
    const b2 = env.sim.rotateCredentials({ app: b.name });
    expect(await env.service.processReleaseEvent(releaseJob({ linkId, appId: b.id, version: 2 }), 'w2')).toMatchObject({
      outcome: 'applied',
      version: 2,
    });
    expect(await env.envValue(projectId)).toBe(b2.databaseUrl);
  });

  it("does not raise the new app's target to a version the reconciler read from the old app", async () => {
    const { accountId, a, b, projectId, linkId } = await projectOnA();
    for (let i = 0; i < 4; i += 1) env.sim.rotateCredentials({ app: a.name }); // A at 5, never delivered

    env.gate.hold((r) => r.method === 'GET' && r.path === `/apps/${a.id}/releases`);
    const reconcile = env.service.reconcileLink(linkId, 'manual', 'reconciler-1');
    await env.gate.waitForHeld(1);
    await env.service.enableSync({ projectId, accountId, app: b.name });
    env.gate.releaseAll();
    await reconcile;

    expect(await linkRow(projectId)).toMatchObject({ appId: b.id, appliedVersion: 1, targetVersion: 1 });
    expect(await env.service.getSyncStatus(projectId)).toMatchObject({ state: 'active', lastError: null });
    expect(await env.envValue(projectId)).toBe(b.databaseUrl);
  });

  it('deletes a webhook the reconciler made for the old app while the link moved (issue 17, defect 7)', async () => {
    const { accountId, a, b, projectId, linkId } = await projectOnA();
    const [recorded] = env.sim.webhooks({ app: a.name });
    env.sim.deleteWebhook({ app: a.name, webhookId: recorded!.id }); // the reconciler will re-create it

    env.gate.hold((r) => r.method === 'GET' && r.path === `/apps/${a.id}/releases`);
    const reconcile = env.service.reconcileLink(linkId, 'manual', 'reconciler-1');
    await env.gate.waitForHeld(1);
    await env.service.enableSync({ projectId, accountId, app: b.name });
    env.gate.releaseAll();
    await reconcile;
    // It made a webhook on A for this link, but did not record it on the link, now on B.
    expect(env.sim.webhooks({ app: a.name })).toHaveLength(1);
    const link = await linkRow(projectId);
    expect(env.sim.webhooks({ app: b.name }).map((w) => w.id)).toEqual([link.webhookId]);

    await env.service.reconcileLink(linkId, 'manual', 'reconciler-2');
    expect(env.sim.webhooks({ app: a.name })).toEqual([]);
    expect(env.sim.webhooks({ app: b.name })).toHaveLength(1);
  });
});
