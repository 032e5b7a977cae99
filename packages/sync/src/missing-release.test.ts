import { herokuLinks, webhookEvents } from '@hds/db';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { releaseJob, useSimSync } from './test-support/sim-sync.js';

const t = useSimSync();

const linkRow = async (linkId: string) =>
  (await t.database.client.db.select().from(herokuLinks).where(eq(herokuLinks.id, linkId)))[0]!;

describe('a target above the app’s newest release (issue 17, defect 2)', () => {
  it('is lowered to the newest succeeded release when the app exists, and the link stays active', async () => {
    const { accountId, apps } = await t.env.account(1);
    const app = apps[0]!;
    const project = await t.env.service.createProject({ name: 'bogus target', heroku: { accountId, app: app.name } });
    const linkId = project.sync.linkId!;
    t.env.sim.rotateCredentials({ app: app.name }); // v2, its delivery lost

    // A release-event job for a release Heroku never made (added by hand in Bull Board, or forged).
    const job = releaseJob({ linkId, appId: app.id, version: 57 });
    const result = await t.env.service.processReleaseEvent(job, 'worker-1');

    const status = await t.env.service.getSyncStatus(project.id);
    expect(status).toMatchObject({ state: 'active', lastError: null, lastReleaseVersion: 2 });
    expect(await linkRow(linkId)).toMatchObject({ appliedVersion: 2, targetVersion: 2 });
    expect(await t.env.envValue(project.id)).toBe(t.env.sim.configVars({ app: app.name }).DATABASE_URL);
    expect(result).toMatchObject({ outcome: 'applied', version: 2 });
    const [event] = await t.database.client.db
      .select()
      .from(webhookEvents)
      .where(eq(webhookEvents.eventId, job.eventId));
    expect(event?.outcome).toBe('applied');

    // Later releases apply as usual: nothing waits for a release 57.
    const v3 = t.env.sim.rotateCredentials({ app: app.name });
    expect(
      await t.env.service.processReleaseEvent(releaseJob({ linkId, appId: app.id, version: 3 }), 'worker-2'),
    ).toMatchObject({ outcome: 'applied', version: 3 });
    expect(await t.env.envValue(project.id)).toBe(v3.databaseUrl);
  });

  it('says so, and applies nothing, when the link is already at the newest release', async () => {
    const { accountId, apps } = await t.env.account(1);
    const app = apps[0]!;
    const project = await t.env.service.createProject({ name: 'bogus target 2', heroku: { accountId, app: app.name } });
    const linkId = project.sync.linkId!;
    const result = await t.env.service.processReleaseEvent(releaseJob({ linkId, appId: app.id, version: 9 }), 'w');
    expect(result).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/no release v9/) });
    expect(await t.env.service.getSyncStatus(project.id)).toMatchObject({ state: 'active', lastReleaseVersion: 1 });
    expect(await linkRow(linkId)).toMatchObject({ appliedVersion: 1, targetVersion: 1 });
  });

  it('still marks the link app_missing when the app itself is gone', async () => {
    const { accountId, apps } = await t.env.account(1);
    const app = apps[0]!;
    const project = await t.env.service.createProject({ name: 'gone', heroku: { accountId, app: app.name } });
    t.env.sim.deleteApp({ app: app.name });
    const result = await t.env.service.processReleaseEvent(
      releaseJob({ linkId: project.sync.linkId!, appId: app.id, version: 2 }),
      'w',
    );
    expect(result).toMatchObject({ outcome: 'failed' });
    expect(await t.env.service.getSyncStatus(project.id)).toMatchObject({ state: 'app_missing' });
  });
});
