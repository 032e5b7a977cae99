import { herokuLinks, webhookEvents } from '@hds/db';
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

const linkRow = async (linkId: string) =>
  (await database.client.db.select().from(herokuLinks).where(eq(herokuLinks.id, linkId)))[0]!;

describe('a target above the app’s newest release (issue 17, defect 2)', () => {
  it('is lowered to the newest succeeded release when the app exists, and the link stays active', async () => {
    const { accountId, apps } = await env.account(1);
    const app = apps[0]!;
    const project = await env.service.createProject({ name: 'bogus target', heroku: { accountId, app: app.name } });
    const linkId = project.sync.linkId!;
    env.sim.rotateCredentials({ app: app.name }); // v2, its delivery lost

    // A release-event job for a release Heroku never made (added by hand in Bull Board, or forged).
    const job = releaseJob({ linkId, appId: app.id, version: 57 });
    const result = await env.service.processReleaseEvent(job, 'worker-1');

    const status = await env.service.getSyncStatus(project.id);
    expect(status).toMatchObject({ state: 'active', lastError: null, lastReleaseVersion: 2 });
    expect(await linkRow(linkId)).toMatchObject({ appliedVersion: 2, targetVersion: 2 });
    expect(await env.envValue(project.id)).toBe(env.sim.configVars({ app: app.name }).DATABASE_URL);
    expect(result).toMatchObject({ outcome: 'applied', version: 2 });
    const [event] = await database.client.db.select().from(webhookEvents).where(eq(webhookEvents.eventId, job.eventId));
    expect(event?.outcome).toBe('applied');

    // Later releases apply as usual: nothing waits for a release 57.
    const v3 = env.sim.rotateCredentials({ app: app.name });
    expect(
      await env.service.processReleaseEvent(releaseJob({ linkId, appId: app.id, version: 3 }), 'worker-2'),
    ).toMatchObject({ outcome: 'applied', version: 3 });
    expect(await env.envValue(project.id)).toBe(v3.databaseUrl);
  });

  it('says so, and applies nothing, when the link is already at the newest release', async () => {
    const { accountId, apps } = await env.account(1);
    const app = apps[0]!;
    const project = await env.service.createProject({ name: 'bogus target 2', heroku: { accountId, app: app.name } });
    const linkId = project.sync.linkId!;
    const result = await env.service.processReleaseEvent(releaseJob({ linkId, appId: app.id, version: 9 }), 'w');
    expect(result).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/no release v9/) });
    expect(await env.service.getSyncStatus(project.id)).toMatchObject({ state: 'active', lastReleaseVersion: 1 });
    expect(await linkRow(linkId)).toMatchObject({ appliedVersion: 1, targetVersion: 1 });
  });

  it('still marks the link app_missing when the app itself is gone', async () => {
    const { accountId, apps } = await env.account(1);
    const app = apps[0]!;
    const project = await env.service.createProject({ name: 'gone', heroku: { accountId, app: app.name } });
    env.sim.deleteApp({ app: app.name });
    const result = await env.service.processReleaseEvent(
      releaseJob({ linkId: project.sync.linkId!, appId: app.id, version: 2 }),
      'w',
    );
    expect(result).toMatchObject({ outcome: 'failed' });
    expect(await env.service.getSyncStatus(project.id)).toMatchObject({ state: 'app_missing' });
  });
});
