import { createTestDatabase, type TestDatabase } from '@hds/testkit';
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

describe('a release without the mapped config var (issue 17, defect 6)', () => {
  it('shows the link as config_var_missing with a clear error until a release has it again', async () => {
    const { accountId, apps } = await env.account(1);
    const app = apps[0]!;
    const project = await env.service.createProject({ name: 'var gone', heroku: { accountId, app: app.name } });
    const linkId = project.sync.linkId!;

    const { version } = env.sim.setConfigVars({ app: app.name, vars: { DATABASE_URL: null } });
    await env.service.processReleaseEvent(releaseJob({ linkId, appId: app.id, version }), 'w1');
    const status = await env.service.getSyncStatus(project.id);
    expect(status).toMatchObject({ state: 'config_var_missing', lastReleaseVersion: version });
    expect(status.lastError).toBe(
      `release v${version} has no DATABASE_URL: HASURA_GRAPHQL_DATABASE_URL keeps its previous value, which may no longer work`,
    );
    expect(await env.envValue(project.id)).toBe(app.databaseUrl); // kept, not emptied
    const changes = (await env.service.listAudit(project.id, { limit: 10 })).filter(
      (e) => e.action === 'state_changed',
    );
    expect(changes[0]).toMatchObject({ releaseVersion: version, detail: { from: 'active', to: 'config_var_missing' } });

    // A reconcile finds nothing newer and leaves the state as it is.
    expect(await env.service.reconcileLink(linkId, 'manual', 'r1')).toMatchObject({ outcome: 'checked' });
    expect(await env.service.getSyncStatus(project.id)).toMatchObject({ state: 'config_var_missing' });

    const back = env.sim.setConfigVars({ app: app.name, vars: { DATABASE_URL: 'postgres://u:p@db.example.com/d' } });
    await env.service.processReleaseEvent(releaseJob({ linkId, appId: app.id, version: back.version }), 'w2');
    expect(await env.service.getSyncStatus(project.id)).toMatchObject({ state: 'active', lastError: null });
    expect(await env.envValue(project.id)).toBe('postgres://u:p@db.example.com/d');
  });
});
