// The built apps as separate processes, driven only through the contract: the admin API and heroku-sim's /_sim/.
import type { AdminClient, AdminEnvVar, SimClient, Stack } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { appName, eventually, useStack } from './support/use-stack.js';

// No scheduled reconcile during these tests: every change must come through a webhook.
const stack = useStack({ workerEnv: { RECONCILE_TICK_MS: '3600000' } });

const HASURA = 'HASURA_GRAPHQL_DATABASE_URL';
const passwordOf = (url: string) => decodeURIComponent(new URL(url).password);

/** A heroku-sim account, added to the service with its API key. */
async function herokuAccount(s: Stack, email: string) {
  const simAccount = await s.sim.createAccount({ email });
  const account = await s.admin.addAccount(simAccount.apiKey);
  return { simAccount, account };
}

/** Waits until the project's var holds `url` (read with `?reveal=true`). */
async function waitForValue(admin: AdminClient, projectId: string, url: string, name = HASURA): Promise<void> {
  await eventually(`${name} of project ${projectId} to be the new URL`, async () => {
    return (await admin.envValue(projectId, name)) === url;
  });
}

/** Platform API calls the sim received about an app (by id or name), with the account that made each. */
async function callsAbout(sim: SimClient, app: { id: string; name: string }) {
  const all = await sim.requests();
  return all.filter((r) => r.path.startsWith(`/apps/${app.id}/`) || r.path.startsWith(`/apps/${app.name}/`));
}

const masked = (vars: AdminEnvVar[], name = HASURA) => vars.find((v) => v.name === name)?.value;

describe('a project synced with a Heroku app (built apps, HTTP only)', () => {
  it('enable, rotate, opt out, re-enable', async () => {
    const s = stack();
    const { simAccount, account } = await herokuAccount(s, 'owner@example.com');
    expect(account.email).toBe('owner@example.com');
    const app = await s.sim.createApp({ name: appName('shop'), accountId: simAccount.id });
    expect((await s.admin.listApps(account.id)).map((a) => a.name)).toEqual([app.name]);
    const project = await s.admin.createProject({ name: 'shop' });
    expect(project.sync).toMatchObject({ enabled: false });

    // Enable: the webhook points at the ingress, and the current URL is applied before the answer.
    const enabled = await s.admin.enableSync(project.id, { accountId: account.id, app: app.name });
    expect(enabled).toMatchObject({
      enabled: true,
      state: 'active',
      app: { id: app.id, name: app.name },
      lastReleaseVersion: 1,
      lastError: null,
    });
    expect(await s.admin.envValue(project.id)).toBe(app.databaseUrl);
    expect(await s.sim.webhooks(app.name)).toEqual([
      expect.objectContaining({
        url: `${s.ingressUrl}/webhooks/heroku/${enabled.linkId}`,
        level: 'sync',
        include: ['api:release'],
      }),
    ]);

    // Rotate: Heroku's webhook reaches the ingress, a worker applies the new URL.
    const v2 = await s.sim.rotateCredentials(app.name);
    expect(v2.version).toBe(2);
    await waitForValue(s.admin, project.id, v2.databaseUrl);
    expect(await s.admin.syncStatus(project.id)).toMatchObject({ state: 'active', lastReleaseVersion: 2 });
    const listed = masked(await s.admin.env(project.id));
    expect(listed).toContain(':****@');
    expect(listed).not.toContain(passwordOf(v2.databaseUrl));
    const audit = await s.admin.audit(project.id);
    expect(audit.find((e) => e.action === 'env_synced')).toMatchObject({
      varName: HASURA,
      releaseVersion: 2,
      actor: 'webhook',
    });
    // The audit log never holds a password.
    for (const url of [app.databaseUrl, v2.databaseUrl]) expect(JSON.stringify(audit)).not.toContain(passwordOf(url));

    // Opt out: the webhook is deleted; the env var stays as it is while Heroku keeps rotating.
    await s.admin.disableSync(project.id);
    expect(await s.admin.syncStatus(project.id)).toMatchObject({ enabled: false });
    expect(await s.sim.webhooks(app.name)).toEqual([]);
    const v3 = await s.sim.rotateCredentials(app.name);
    expect(await s.sim.settled()).toBe(true);
    expect((await s.sim.deliveries({ app: app.name })).filter((d) => d.releaseVersion === v3.version)).toEqual([]);
    expect(await s.admin.envValue(project.id)).toBe(v2.databaseUrl);

    // Re-enable: catches up with the release it missed at once, then follows rotations again.
    const again = await s.admin.enableSync(project.id, { accountId: account.id, app: app.name });
    expect(again).toMatchObject({ enabled: true, state: 'active', lastReleaseVersion: v3.version });
    expect(await s.admin.envValue(project.id)).toBe(v3.databaseUrl);
    expect(await s.sim.webhooks(app.name)).toHaveLength(1);
    const v4 = await s.sim.rotateCredentials(app.name);
    await waitForValue(s.admin, project.id, v4.databaseUrl);

    const history = (await s.admin.audit(project.id)).reverse();
    const synced = history.filter((e) => e.action === 'env_synced').map((e) => e.releaseVersion);
    expect(synced).toEqual([1, 2, 3, 4]);
    const actions = history.map((e) => e.action);
    expect(actions.indexOf('sync_disabled')).toBeGreaterThan(actions.indexOf('env_synced'));
    expect(actions.lastIndexOf('sync_enabled')).toBeGreaterThan(actions.indexOf('sync_disabled'));
  });

  it('two projects on two apps of two accounts: each gets its own app’s URL, on its own account’s budget', async () => {
    const s = stack();
    const alice = await herokuAccount(s, 'alice@example.com');
    const bob = await herokuAccount(s, 'bob@example.com');
    const appA = await s.sim.createApp({ name: appName('alpha'), accountId: alice.simAccount.id });
    const appB = await s.sim.createApp({ name: appName('beta'), accountId: bob.simAccount.id });

    // An account cannot link an app it does not see.
    const stranger = await s.admin.createProject({ name: 'stranger' });
    const refused = await s.admin.http.request<{ error: { code: string } }>(
      'PUT',
      `/api/projects/${stranger.id}/heroku-sync`,
      { accountId: alice.account.id, app: appB.name },
    );
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('app_not_visible');

    // Created with a Heroku app: the sync is on at once. B maps the URL to another var.
    const projectA = await s.admin.createProject({
      name: 'alpha',
      heroku: { accountId: alice.account.id, app: appA.name },
    });
    const projectB = await s.admin.createProject({
      name: 'beta',
      heroku: { accountId: bob.account.id, app: appB.name, mappings: { DATABASE_URL: 'PRIMARY_DATABASE_URL' } },
    });
    expect(projectA.sync).toMatchObject({ enabled: true, state: 'active', lastReleaseVersion: 1 });
    expect(projectB.sync).toMatchObject({ enabled: true, state: 'active', lastReleaseVersion: 1 });

    const a2 = await s.sim.rotateCredentials(appA.name);
    const b2 = await s.sim.rotateCredentials(appB.name);
    const a3 = await s.sim.rotateCredentials(appA.name);
    await waitForValue(s.admin, projectA.id, a3.databaseUrl);
    await waitForValue(s.admin, projectB.id, b2.databaseUrl, 'PRIMARY_DATABASE_URL');

    expect((await s.admin.env(projectA.id)).map((v) => v.name)).toEqual([HASURA]);
    expect((await s.admin.env(projectB.id)).map((v) => v.name)).toEqual(['PRIMARY_DATABASE_URL']);
    const syncedVersions = async (projectId: string) =>
      (await s.admin.audit(projectId))
        .filter((e) => e.action === 'env_synced')
        .map((e) => e.releaseVersion)
        .reverse();
    // Two quick rotations may be applied as one (the newest release wins), never out of order or twice.
    const versionsA = await syncedVersions(projectA.id);
    expect(versionsA[0]).toBe(1);
    expect(versionsA.at(-1)).toBe(a3.version);
    expect(versionsA).toEqual([...new Set(versionsA)].sort((x, y) => x! - y!));
    expect(versionsA.every((v) => v === 1 || v === a2.version || v === a3.version)).toBe(true);
    expect(await syncedVersions(projectB.id)).toEqual([1, b2.version]);

    // Every Platform API call about an app was made with its owner's credential: no budget is shared.
    const aboutA = await callsAbout(s.sim, appA);
    const aboutB = await callsAbout(s.sim, appB);
    expect(aboutA.length).toBeGreaterThan(0);
    expect(aboutB.length).toBeGreaterThan(0);
    expect(new Set(aboutA.map((r) => r.accountId))).toEqual(new Set([alice.simAccount.id]));
    expect(new Set(aboutB.map((r) => r.accountId))).toEqual(new Set([bob.simAccount.id]));
    // One config fetch per applied release.
    const fetches = aboutA.filter((r) => /\/releases\/\d+\/config-vars$/.test(r.path));
    expect(fetches.length).toBe(versionsA.length);
  });
});
