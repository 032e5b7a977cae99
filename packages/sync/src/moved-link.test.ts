import { herokuLinks } from '@hds/db';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { releaseJob, useSimSync } from './test-support/sim-sync.js';

const t = useSimSync();

const linkRow = async (projectId: string) =>
  (await t.database.client.db.select().from(herokuLinks).where(eq(herokuLinks.projectId, projectId)))[0]!;

/** A project synced with app A (at release 1), and an app B of the same account it will move to. */
async function projectOnA() {
  const { accountId, apps } = await t.env.account(2);
  const [a, b] = apps as [(typeof apps)[0], (typeof apps)[0]];
  const project = await t.env.service.createProject({ name: 'moving', heroku: { accountId, app: a.name } });
  return { accountId, a, b, projectId: project.id, linkId: project.sync.linkId! };
}

/** A reconcile of the link reads A's releases; Heroku's answer is held while the link moves to B. */
async function reconcileWhileMoving(o: Awaited<ReturnType<typeof projectOnA>>): Promise<void> {
  t.env.gate.hold((r) => r.method === 'GET' && r.path === `/apps/${o.a.id}/releases`);
  const reconcile = t.env.service.reconcileLink(o.linkId, 'manual', 'reconciler-1');
  await t.env.gate.waitForHeld(1);
  await t.env.service.enableSync({ projectId: o.projectId, accountId: o.accountId, app: o.b.name });
  t.env.gate.releaseAll();
  await reconcile;
}

describe('a link moved to another app while work for the old app runs (issue 17, defect 1)', () => {
  it("refuses the old app's commit: the new app's URL stays, and its releases are not taken for stale", async () => {
    const { accountId, a, b, projectId, linkId } = await projectOnA();
    for (let i = 0; i < 3; i += 1) t.env.sim.rotateCredentials({ app: a.name });
    const a5 = t.env.sim.rotateCredentials({ app: a.name });
    expect(a5.version).toBe(5);

    // A worker fetches A's release 5; Heroku's answer is held while the link moves to B.
    t.env.gate.hold((r) => r.path === `/apps/${a.id}/releases/5/config-vars`);
    const event = t.env.service.processReleaseEvent(releaseJob({ linkId, appId: a.id, version: 5 }), 'worker-1');
    await t.env.gate.waitForHeld(1);
    await t.env.service.enableSync({ projectId, accountId, app: b.name });
    t.env.gate.releaseAll();
    expect(await event).toMatchObject({ outcome: 'ignored' });

    expect(await t.env.envValue(projectId)).toBe(b.databaseUrl);
    expect(await linkRow(projectId)).toMatchObject({ appId: b.id, appliedVersion: 1, targetVersion: 1 });
    // B's release 2 is applied, not dropped as "not newer" than A's 5.
    const b2 = t.env.sim.rotateCredentials({ app: b.name });
    expect(
      await t.env.service.processReleaseEvent(releaseJob({ linkId, appId: b.id, version: 2 }), 'w2'),
    ).toMatchObject({
      outcome: 'applied',
      version: 2,
    });
    expect(await t.env.envValue(projectId)).toBe(b2.databaseUrl);
  });

  it("does not raise the new app's target to a version the reconciler read from the old app", async () => {
    const { accountId, a, b, projectId, linkId } = await projectOnA();
    for (let i = 0; i < 4; i += 1) t.env.sim.rotateCredentials({ app: a.name }); // A at 5, never delivered

    await reconcileWhileMoving({ accountId, a, b, projectId, linkId });

    expect(await linkRow(projectId)).toMatchObject({ appId: b.id, appliedVersion: 1, targetVersion: 1 });
    expect(await t.env.service.getSyncStatus(projectId)).toMatchObject({ state: 'active', lastError: null });
    expect(await t.env.envValue(projectId)).toBe(b.databaseUrl);
  });

  it('deletes a webhook the reconciler made for the old app while the link moved (issue 17, defect 7)', async () => {
    const { accountId, a, b, projectId, linkId } = await projectOnA();
    const [recorded] = t.env.sim.webhooks({ app: a.name });
    t.env.sim.deleteWebhook({ app: a.name, webhookId: recorded!.id }); // the reconciler will re-create it

    await reconcileWhileMoving({ accountId, a, b, projectId, linkId });
    // It made a webhook on A for this link, but did not record it on the link, now on B.
    expect(t.env.sim.webhooks({ app: a.name })).toHaveLength(1);
    const link = await linkRow(projectId);
    expect(t.env.sim.webhooks({ app: b.name }).map((w) => w.id)).toEqual([link.webhookId]);

    await t.env.service.reconcileLink(linkId, 'manual', 'reconciler-2');
    expect(t.env.sim.webhooks({ app: a.name })).toEqual([]);
    expect(t.env.sim.webhooks({ app: b.name })).toHaveLength(1);
  });
});
