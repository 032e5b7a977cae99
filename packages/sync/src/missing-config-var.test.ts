import { describe, expect, it } from 'vitest';
import { releaseJob, useSimSync } from './test-support/sim-sync.js';

const t = useSimSync();

describe('a release without the mapped config var (issue 17, defect 6)', () => {
  it('shows the link as config_var_missing with a clear error until a release has it again', async () => {
    const { accountId, apps } = await t.env.account(1);
    const app = apps[0]!;
    const project = await t.env.service.createProject({ name: 'var gone', heroku: { accountId, app: app.name } });
    const linkId = project.sync.linkId!;

    const { version } = t.env.sim.setConfigVars({ app: app.name, vars: { DATABASE_URL: null } });
    await t.env.service.processReleaseEvent(releaseJob({ linkId, appId: app.id, version }), 'w1');
    const status = await t.env.service.getSyncStatus(project.id);
    expect(status).toMatchObject({ state: 'config_var_missing', lastReleaseVersion: version });
    expect(status.lastError).toBe(
      `release v${version} has no DATABASE_URL: HASURA_GRAPHQL_DATABASE_URL keeps its previous value, which may no longer work`,
    );
    expect(await t.env.envValue(project.id)).toBe(app.databaseUrl); // kept, not emptied
    const changes = (await t.env.service.listAudit(project.id, { limit: 10 })).filter(
      (e) => e.action === 'state_changed',
    );
    expect(changes[0]).toMatchObject({ releaseVersion: version, detail: { from: 'active', to: 'config_var_missing' } });

    // A reconcile finds nothing newer and leaves the state as it is.
    expect(await t.env.service.reconcileLink(linkId, 'manual', 'r1')).toMatchObject({ outcome: 'checked' });
    expect(await t.env.service.getSyncStatus(project.id)).toMatchObject({ state: 'config_var_missing' });

    const back = t.env.sim.setConfigVars({ app: app.name, vars: { DATABASE_URL: 'postgres://u:p@db.example.com/d' } });
    await t.env.service.processReleaseEvent(releaseJob({ linkId, appId: app.id, version: back.version }), 'w2');
    expect(await t.env.service.getSyncStatus(project.id)).toMatchObject({ state: 'active', lastError: null });
    expect(await t.env.envValue(project.id)).toBe('postgres://u:p@db.example.com/d');
  });
});
