// The hasura and file destinations through the whole stack (built apps): heroku-sim with real databases rotates an
// app's credentials, the webhook reaches the ingress, the worker commits the new URL and its deliveries (outbox),
// and the delivery worker puts it into the Hasura stand-in (metadata API) or a file. The admin API refuses every
// file path trick with 422.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startHasuraStandIn,
  type HasuraMetadata,
  type HasuraStandIn,
  type Stack,
  hasuraMetadata,
  postgresSource,
  TEST_POOL_SETTINGS,
} from '@hds/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { appName, eventually, useStack } from './support/use-stack.js';

const HASURA = 'HASURA_GRAPHQL_DATABASE_URL';
const SECRET = 'e2e-hasura-admin-secret';
const root = mkdtempSync(join(tmpdir(), 'hds-file-destinations-'));
const destinationsEnv = { DESTINATIONS_ALLOW_PRIVATE: 'true', FILE_DESTINATIONS_ROOT: root };
const stack = useStack({
  realDatabases: true,
  workerEnv: {
    RECONCILE_TICK_MS: '3600000',
    DELIVERY_RETRY_SCHEDULE: '0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1',
    ...destinationsEnv,
  },
  env: { admin: destinationsEnv },
});
const opened: HasuraStandIn[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((h) => h.close()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function metadata(databaseUrl: unknown): HasuraMetadata {
  return hasuraMetadata(postgresSource({ databaseUrl, tables: ['customers'] }));
}

async function syncedProject(s: Stack, name: string) {
  const simAccount = await s.sim.createAccount({ email: `${name}@example.com` });
  const app = await s.sim.createApp({ name: appName(name), accountId: simAccount.id });
  const account = await s.admin.addAccount(simAccount.apiKey);
  const project = await s.admin.createProject({ name, heroku: { accountId: account.id, app: app.name } });
  return { app, project };
}

async function standIn(options: Parameters<typeof startHasuraStandIn>[0]) {
  const started = await startHasuraStandIn({ adminSecret: SECRET, connectTimeoutSeconds: 3, ...options });
  opened.push(started);
  return started;
}

const addDestination = (s: Stack, projectId: string, body: Record<string, unknown>) =>
  s.admin.http.request<Record<string, unknown>>('POST', `/api/projects/${projectId}/destinations`, body);

/** A hasura destination for `HASURA` on the stand-in, with its admin secret. */
const addHasura = (s: Stack, projectId: string, hasura: HasuraStandIn) =>
  addDestination(s, projectId, { kind: 'hasura', url: hasura.url, adminSecret: SECRET, vars: [HASURA] });

type Delivery = { status: string; lastError: string | null; varName: string | null };
const deliveries = async (s: Stack, projectId: string, destinationId: string) =>
  (
    await s.admin.http.request<{ deliveries: Delivery[] }>(
      'GET',
      `/api/projects/${projectId}/destinations/${destinationId}/deliveries?limit=50`,
    )
  ).body.deliveries;

describe('hasura and file destinations through the whole stack', () => {
  it('after each rotation the source connects with the new password, pool settings unchanged; a 409 edit is kept', async () => {
    const s = stack();
    const { app, project } = await syncedProject(s, 'hasura-api');
    const hasura = await standIn({ metadata: metadata(app.databaseUrl) });
    const created = await addHasura(s, project.id, hasura);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'hasura', url: hasura.url, source: 'default', state: 'active' });
    expect(JSON.stringify(created.body)).not.toContain(SECRET);
    const id = created.body.id as string;
    await eventually('the first delivery (the current value)', async () =>
      (await deliveries(s, project.id, id)).some((d) => d.status === 'delivered'),
    );
    const role = new URL(app.databaseUrl).username;
    for (const round of [1, 2, 3]) {
      if (round === 2) {
        // Someone edits the metadata between the worker's read and its write: the edit must survive.
        hasura.afterNextExport((m) => {
          m.sources[0]!.tables.push({ table: { schema: 'public', name: 'orders' } });
        });
      }
      const rotation = await s.sim.rotateCredentials(app.name);
      // Done once its delivery is (the write and the checks after it), not as soon as the URL is in.
      await eventually(`round ${round}: the delivery of the new URL`, async () => {
        const delivered = (await deliveries(s, project.id, id)).filter((d) => d.status === 'delivered');
        return delivered.length >= round + 1;
      });
      expect(hasura.metadata().sources[0]!.configuration.connection_info.database_url).toBe(rotation.databaseUrl);
      expect(await hasura.query('default', 'select current_user as user')).toEqual([{ user: role }]);
      expect(hasura.poolSettings('default')).toEqual(TEST_POOL_SETTINGS);
    }
    expect(hasura.calls().filter((c) => c.status === 409).length).toBeGreaterThan(0);
    expect(hasura.metadata().sources[0]!.tables).toHaveLength(2);
  });

  it('leaves a from_env source alone: the delivery ends needs_restart naming the variable', async () => {
    const s = stack();
    const { app, project } = await syncedProject(s, 'hasura-env');
    const hasura = await standIn({
      env: { [HASURA]: app.databaseUrl },
      metadata: metadata({ from_env: HASURA }),
    });
    const before = hasura.metadata();
    const created = await addHasura(s, project.id, hasura);
    const id = created.body.id as string;
    await s.sim.rotateCredentials(app.name);
    const ended = await eventually('two needs_restart deliveries', async () => {
      const list = await deliveries(s, project.id, id);
      return list.filter((d) => d.status === 'needs_restart').length >= 2 && list;
    });
    expect(ended[0]!.lastError).toContain(HASURA);
    expect(ended[0]!.lastError).toContain('file destination');
    expect(hasura.metadata()).toEqual(before);
    expect(hasura.calls().every((c) => c.type === 'export_metadata')).toBe(true);
  });

  it('a Hasura that is down for a while gets the newest URL once back, never an older one', async () => {
    const s = stack();
    const { app, project } = await syncedProject(s, 'hasura-down');
    const hasura = await standIn({ metadata: metadata(app.databaseUrl) });
    const created = await addHasura(s, project.id, hasura);
    const id = created.body.id as string;
    await eventually('the first delivery', async () =>
      (await deliveries(s, project.id, id)).some((d) => d.status === 'delivered'),
    );
    await hasura.stop();
    const urls: string[] = [];
    for (let i = 0; i < 3; i += 1) urls.push((await s.sim.rotateCredentials(app.name)).databaseUrl);
    await eventually('an attempt to fail while Hasura is down', async () =>
      (await deliveries(s, project.id, id)).some((d) => d.status === 'failed'),
    );
    await hasura.start();
    const newest = urls.at(-1)!;
    await eventually('the newest URL in Hasura', async () => hasura.sourceUrl('default') === newest, 30_000);
    const history = hasura.sourceUrlHistory('default');
    // Once the newest was written, everything written after it is the newest: no older URL came back.
    const first = history.indexOf(newest);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(history.slice(first)).toEqual(Array<string>(history.length - first).fill(newest));
    // And what came before it is the start URL or a rotation's, never going back to an older one.
    const before = history.slice(0, first).map((url) => [app.databaseUrl, ...urls].indexOf(url));
    expect(before.every((at) => at >= 0)).toBe(true);
    expect(before).toEqual([...before].sort((a, b) => a - b));
    expect(await hasura.query('default', 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('a wrong admin secret: the destination is failing with "Hasura refused the admin secret", metadata untouched', async () => {
    const s = stack();
    const { app, project } = await syncedProject(s, 'hasura-secret');
    const hasura = await standIn({ metadata: metadata(app.databaseUrl) });
    const before = hasura.metadata();
    const created = await addDestination(s, project.id, {
      kind: 'hasura',
      url: hasura.url,
      adminSecret: `not-${SECRET}`,
      vars: [HASURA],
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await s.sim.rotateCredentials(app.name);
    // Through the worker: the outbox, the delivery job, the kind's 401, the engine's record on the destination.
    const failing = await eventually('the destination to be failing', async () => {
      const list = await s.admin.http.request<{ destinations: Record<string, unknown>[] }>(
        'GET',
        `/api/projects/${project.id}/destinations`,
      );
      const found = list.body.destinations.find((d) => d.id === id);
      return found?.state === 'failing' && found;
    });
    expect(failing.lastError).toBe('Hasura refused the admin secret');
    const list = await deliveries(s, project.id, id);
    expect(list.length).toBeGreaterThan(0);
    expect(list.some((d) => d.status === 'delivered')).toBe(false);
    expect(
      list.filter((d) => d.lastError !== null).every((d) => d.lastError === 'Hasura refused the admin secret'),
    ).toBe(true);
    expect(hasura.calls().length).toBeGreaterThan(0);
    expect(hasura.calls().every((c) => c.status === 401)).toBe(true);
    expect(hasura.metadata()).toEqual(before);
  });

  it('refuses every file path trick with 422, and writes a good path under FILE_DESTINATIONS_ROOT', async () => {
    const s = stack();
    const { project } = await syncedProject(s, 'file-paths');
    const outside = mkdtempSync(join(tmpdir(), 'hds-outside-'));
    try {
      mkdirSync(join(root, 'p1'), { recursive: true });
      symlinkSync(outside, join(root, 'p1', 'out'));
      for (const path of [
        '../x',
        'a/../../x',
        '/etc/passwd',
        join(outside, 'x'),
        'p1/out/x',
        'p1/out',
        'a\\..\\x',
        'dir/',
      ]) {
        const answer = await addDestination(s, project.id, { kind: 'file', path, format: 'raw', vars: [HASURA] });
        expect(answer.status, path).toBe(422);
      }
      const good = await addDestination(s, project.id, {
        kind: 'file',
        path: 'p1/hasura/url',
        format: 'raw',
        vars: [HASURA],
      });
      expect(good.status).toBe(201);
      expect(good.body).toMatchObject({ kind: 'file', path: 'p1/hasura/url', format: 'raw' });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
