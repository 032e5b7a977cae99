import { waitFor } from '@hds/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '@hds/testkit/pipeline';

let pipeline: Pipeline;
beforeAll(async () => {
  // A fast reconciler: ticks every 100 ms and sweeps each account at most every 200 ms (a budget of 180,000
  // requests an hour gives the reconciler 5 calls a second); a release without its delivery leads to a webhook
  // check 300 ms after it was released, other webhooks are checked only once a day.
  pipeline = await Pipeline.start({
    reconcileTickMs: 100,
    sync: { reconcileMinIntervalMs: 200, accountHourlyBudget: 180_000, webhookGraceMs: 300 },
  });
});
afterAll(() => pipeline.close());

describe('the reconciler', () => {
  it('repairs a dropped webhook: the missed release is applied without any delivery', async () => {
    const link = await pipeline.linkedProject();
    pipeline.sim.setFaults({ deliveries: { drop: { rate: 1, app: link.app.name } } });
    try {
      const rotation = pipeline.sim.rotateCredentials({ app: link.app.name });
      await pipeline.sim.settled();
      expect(
        pipeline.sim
          .deliveries({ app: link.app.name })
          .filter((d) => d.releaseVersion === rotation.version)
          .every((d) => d.status === 'dropped'),
      ).toBe(true);
      await pipeline.waitForVersion(link.projectId, rotation.version);
      expect(await pipeline.envValue(link.projectId)).toBe(rotation.databaseUrl);
      const [row] = (await pipeline.audit(link.projectId)).slice(-1);
      expect(row).toMatchObject({ releaseVersion: rotation.version, actor: 'reconciler' });
    } finally {
      pipeline.sim.clearFaults();
    }
  });

  it('re-creates a webhook that disappeared once a release arrives without its delivery, and deliveries work again', async () => {
    const link = await pipeline.linkedProject();
    const [original] = pipeline.sim.webhooks({ app: link.app.name });
    pipeline.sim.deleteWebhook({ app: link.app.name, webhookId: original!.id });
    // The evidence: a release the sweep sees, with no delivery (there is no webhook to deliver it).
    const missed = pipeline.sim.rotateCredentials({ app: link.app.name });
    await pipeline.waitForVersion(link.projectId, missed.version);
    const recreated = await waitFor(() => pipeline.sim.webhooks({ app: link.app.name })[0], { what: 'a new webhook' });
    expect(recreated.id).not.toBe(original!.id);
    expect(recreated).toMatchObject({ url: original!.url, level: 'sync', include: ['api:release'] });
    await waitFor(async () => (await pipeline.sync.getSyncStatus(link.projectId)).webhookId === recreated.id);
    expect(await pipeline.audit(link.projectId, 'webhook_recreated')).toHaveLength(1);

    const rotation = pipeline.sim.rotateCredentials({ app: link.app.name });
    await pipeline.sim.settled();
    const deliveries = pipeline.sim.deliveries({ webhookId: recreated.id });
    expect(deliveries.some((d) => d.releaseVersion === rotation.version && d.status === 'succeeded')).toBe(true);
    await pipeline.waitForVersion(link.projectId, rotation.version);
  });

  it('reaches the newest release of an app the account no longer lists (moved to a team) through GET /apps/{id}', async () => {
    const link = await pipeline.linkedProject();
    const listed = await pipeline.linkedProject({ simAccountId: link.simAccountId, apiKey: link.apiKey });
    pipeline.sim.setFaults({
      api: { unlisted: [{ app: link.app.id, accountId: link.simAccountId }] },
      deliveries: { drop: { rate: 1 } },
    });
    try {
      pipeline.sim.clearRequests();
      const rotation = pipeline.sim.rotateCredentials({ app: link.app.name });
      await pipeline.waitForVersion(link.projectId, rotation.version);
      expect(await pipeline.envValue(link.projectId)).toBe(rotation.databaseUrl);
      expect(pipeline.sim.deliveries({ app: link.app.name }).some((d) => d.status === 'succeeded')).toBe(false);
      // The sweeps read the list without the app, and asked for it by id; the app still listed was never asked for.
      const mine = pipeline.sim.requests({ accountId: link.simAccountId, method: 'GET' });
      const lists = mine.filter((r) => r.path === '/apps');
      expect(lists.length).toBeGreaterThan(0);
      expect(mine.filter((r) => r.path === `/apps/${link.app.id}` && r.status === 200).length).toBeGreaterThan(0);
      expect(mine.filter((r) => r.path === `/apps/${listed.app.id}`)).toEqual([]);
      expect((await pipeline.sync.getSyncStatus(link.projectId)).state).toBe('active');
      const [row] = (await pipeline.audit(link.projectId)).slice(-1);
      expect(row).toMatchObject({ releaseVersion: rotation.version, actor: 'reconciler' });
    } finally {
      pipeline.sim.clearFaults();
    }
  });

  it('marks a deleted app app_missing and says so', async () => {
    const link = await pipeline.linkedProject();
    pipeline.sim.deleteApp({ app: link.app.name });
    const status = await waitFor(async () => {
      const s = await pipeline.sync.getSyncStatus(link.projectId);
      return s.state === 'app_missing' ? s : undefined;
    });
    expect(status.lastError).toMatch(/app is gone/);
    expect(await pipeline.audit(link.projectId, 'state_changed')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ from: 'active', to: 'app_missing' }) }),
    ]);
  });

  it('marks a link needs_reauth when Heroku stops accepting the account’s key, and re-arms it on a new key', async () => {
    const link = await pipeline.linkedProject();
    const { apiKey } = pipeline.sim.revokeTokens({ accountId: link.simAccountId, apiKey: true });
    await waitFor(async () => (await pipeline.sync.getSyncStatus(link.projectId)).state === 'needs_reauth', {
      what: 'needs_reauth',
    });
    expect((await pipeline.sync.getSyncStatus(link.projectId)).lastError).toMatch(/sign in with Heroku again/);

    // The owner adds the account again with its new key: the link works again and catches up.
    const rotation = pipeline.sim.rotateCredentials({ app: link.app.name });
    const { rearmedLinks } = await pipeline.sync.addAccount({ apiKey: apiKey! });
    expect(rearmedLinks).toEqual([link.linkId]);
    await pipeline.waitForVersion(link.projectId, rotation.version);
    expect(await pipeline.envValue(link.projectId)).toBe(rotation.databaseUrl);
  });
});
