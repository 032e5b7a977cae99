// Webhooks get lost: the reconciler notices on its own, through the Platform API.
import type { Stack } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { appName, eventually, useStack } from './support/use-stack.js';

// A fast reconciler: a tick every 200 ms, each account swept at most every 500 ms with the whole hourly budget of
// the account for it; a release without its delivery leads to a webhook check after 300 ms, and every webhook is
// checked routinely every 2 s (instead of a day).
const stack = useStack({
  workerEnv: {
    RECONCILE_TICK_MS: '200',
    RECONCILE_BUDGET_SHARE: '1',
    RECONCILE_MIN_INTERVAL_MS: '500',
    WEBHOOK_GRACE_MS: '300',
    WEBHOOK_CHECK_INTERVAL_MS: '2000',
  },
});

async function linkedProject(s: Stack, owner: string) {
  const simAccount = await s.sim.createAccount({ email: `${owner}@example.com` });
  const account = await s.admin.addAccount(simAccount.apiKey);
  const app = await s.sim.createApp({ name: appName(owner), accountId: simAccount.id });
  const project = await s.admin.createProject({ name: owner, heroku: { accountId: account.id, app: app.name } });
  return { app, project };
}

describe('the reconciler (built worker, scheduled ticks)', () => {
  it('applies a release whose webhook was dropped', async () => {
    const s = stack();
    const { app, project } = await linkedProject(s, 'dropped');
    await s.sim.setFaults({ deliveries: { drop: { rate: 1, app: app.name } } });
    try {
      const rotation = await s.sim.rotateCredentials(app.name);
      expect(await s.sim.settled()).toBe(true);
      const sent = (await s.sim.deliveries({ app: app.name })).filter((d) => d.releaseVersion === rotation.version);
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.every((d) => d.status === 'dropped' && d.attempts.length === 0)).toBe(true);

      await eventually('the reconciler to apply the missed release', async () => {
        return (await s.admin.envValue(project.id)) === rotation.databaseUrl;
      });
      expect(await s.admin.syncStatus(project.id)).toMatchObject({
        state: 'active',
        lastReleaseVersion: rotation.version,
      });
      const [latest] = (await s.admin.audit(project.id)).filter((e) => e.action === 'env_synced');
      expect(latest).toMatchObject({ releaseVersion: rotation.version, actor: 'reconciler' });
    } finally {
      await s.sim.clearFaults();
    }
  });

  it('re-creates a webhook deleted behind its back, and deliveries work again', async () => {
    const s = stack();
    const { app, project } = await linkedProject(s, 'deleted');
    const [original] = await s.sim.webhooks(app.name);
    await s.sim.deleteWebhook(app.name, original!.id);

    const recreated = await eventually('a new webhook', async () => (await s.sim.webhooks(app.name))[0]);
    expect(recreated.id).not.toBe(original!.id);
    expect(recreated).toMatchObject({ url: original!.url, level: 'sync', include: ['api:release'] });
    await eventually('the audit entry', async () =>
      (await s.admin.audit(project.id)).some((e) => e.action === 'webhook_recreated'),
    );

    const rotation = await s.sim.rotateCredentials(app.name);
    expect(await s.sim.settled()).toBe(true);
    const delivered = await s.sim.deliveries({ webhookId: recreated.id });
    expect(delivered.some((d) => d.releaseVersion === rotation.version && d.status === 'succeeded')).toBe(true);
    await eventually('the rotation to be applied', async () => {
      return (await s.admin.envValue(project.id)) === rotation.databaseUrl;
    });
  });
});
