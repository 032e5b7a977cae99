import { auditLog, projectEnvVars, webhookEvents } from '@hds/db';
import { createTestDatabase, type TestDatabase } from '@hds/testkit';
import { eq } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envVarContext } from './env-var-context.js';
import { commitRelease } from './release-path/index.js';
import type { SyncService } from './service.js';
import { seedLink, testService } from './test-support/fixtures.js';

let database: TestDatabase;
let service: SyncService;

beforeAll(async () => {
  database = await createTestDatabase();
  service = testService(database.client.db);
});
afterAll(() => database.drop());

const url = (password: string) => `postgres://u5er:${password}@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d1`;

async function envValue(projectId: string, name = 'HASURA_GRAPHQL_DATABASE_URL') {
  const [row] = await database.client.db.select().from(projectEnvVars).where(eq(projectEnvVars.projectId, projectId));
  return row && service.ctx.keyring.decrypt(row.valueEncrypted, envVarContext(projectId, name));
}
const auditRows = (projectId: string) =>
  database.client.db.select().from(auditLog).where(eq(auditLog.projectId, projectId)).orderBy(auditLog.id);

describe('commitRelease', () => {
  it('writes the value encrypted, one redacted audit row, and the applied version', async () => {
    const { projectId, link } = await seedLink(service);
    const result = await commitRelease(service.ctx, {
      projectId: link.projectId,
      mappings: link.mappings,
      linkId: link.id,
      appId: link.appId,
      owner: 'o',
      version: 3,
      config: { DATABASE_URL: url('first-secret') },
      actor: 'webhook',
      eventId: '5f1463a4-0210-43ba-b906-52599e246482',
    });
    expect(result).toMatchObject({ committed: true, changedVars: 1 });
    expect(await envValue(projectId)).toBe(url('first-secret'));
    const [stored] = await database.client.db
      .select()
      .from(projectEnvVars)
      .where(eq(projectEnvVars.projectId, projectId));
    expect(stored!.valueEncrypted).not.toContain('first-secret');
    expect(stored!.source).toBe('heroku');
    const audits = await auditRows(projectId);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      action: 'env_synced',
      varName: 'HASURA_GRAPHQL_DATABASE_URL',
      beforeRedacted: null,
      afterRedacted: 'postgres://****:****@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d1',
      releaseVersion: 3,
      eventId: '5f1463a4-0210-43ba-b906-52599e246482',
      actor: 'webhook',
    });
    expect(JSON.stringify(audits)).not.toContain('first-secret');
  });

  it('never writes an older release over a newer one', async () => {
    const { projectId, link } = await seedLink(service);
    const commit = (version: number, password: string) =>
      commitRelease(service.ctx, {
        projectId: link.projectId,
        mappings: link.mappings,
        linkId: link.id,
        appId: link.appId,
        owner: 'o',
        version,
        config: { DATABASE_URL: url(password) },
        actor: 'webhook',
      });
    await commit(5, 'five');
    expect(await commit(4, 'four')).toMatchObject({ committed: false });
    expect(await commit(5, 'five-again')).toMatchObject({ committed: false });
    expect(await envValue(projectId)).toBe(url('five'));
    expect(await auditRows(projectId)).toHaveLength(1);
  });

  it('writes no audit row when the mapped value did not change', async () => {
    const { projectId, link } = await seedLink(service);
    await commitRelease(service.ctx, {
      projectId: link.projectId,
      mappings: link.mappings,
      linkId: link.id,
      appId: link.appId,
      owner: 'o',
      version: 1,
      config: { DATABASE_URL: url('same') },
      actor: 'webhook',
    });
    const second = await commitRelease(service.ctx, {
      projectId: link.projectId,
      mappings: link.mappings,
      linkId: link.id,
      appId: link.appId,
      owner: 'o',
      version: 2,
      config: { DATABASE_URL: url('same'), OTHER: 'changed' },
      actor: 'webhook',
    });
    expect(second).toMatchObject({ committed: true, changedVars: 0 });
    expect(await auditRows(projectId)).toHaveLength(1);
  });

  it('keeps the value and says so when a release lacks the config var', async () => {
    const { projectId, link } = await seedLink(service);
    await commitRelease(service.ctx, {
      projectId: link.projectId,
      mappings: link.mappings,
      linkId: link.id,
      appId: link.appId,
      owner: 'o',
      version: 1,
      config: { DATABASE_URL: url('kept') },
      actor: 'webhook',
    });
    await commitRelease(service.ctx, {
      projectId: link.projectId,
      mappings: link.mappings,
      linkId: link.id,
      appId: link.appId,
      owner: 'o',
      version: 2,
      config: {},
      actor: 'webhook',
    });
    expect(await envValue(projectId)).toBe(url('kept'));
    expect(await service.getSyncStatus(projectId)).toMatchObject({
      state: 'config_var_missing',
      lastError: expect.stringMatching(/^release v2 has no DATABASE_URL/),
    });
  });

  it('notifies listeners that the project env changed, after commit', async () => {
    const { projectId, link } = await seedLink(service);
    const listener = postgres(database.url, { max: 1 });
    try {
      const notified = new Promise<string>((resolve) => {
        void listener.listen('project_env_changed', (payload) => {
          if (payload === projectId) resolve(payload);
        });
      });
      await new Promise((r) => setTimeout(r, 50)); // LISTEN takes effect once its connection is up
      await commitRelease(service.ctx, {
        projectId: link.projectId,
        mappings: link.mappings,
        linkId: link.id,
        appId: link.appId,
        owner: 'o',
        version: 1,
        config: { DATABASE_URL: url('n') },
        actor: 'webhook',
      });
      expect(await notified).toBe(projectId);
    } finally {
      await listener.end();
    }
  });

  it('applies a concurrent burst of versions once each at most, ending at the newest', async () => {
    const { projectId, link } = await seedLink(service);
    const versions = Array.from({ length: 20 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    await Promise.all(
      versions.map((v) =>
        commitRelease(service.ctx, {
          projectId: link.projectId,
          mappings: link.mappings,
          linkId: link.id,
          appId: link.appId,
          owner: `o${v}`,
          version: v,
          config: { DATABASE_URL: url(`v${v}`) },
          actor: 'webhook',
        }),
      ),
    );
    expect(await envValue(projectId)).toBe(url('v20'));
    const audits = await auditRows(projectId);
    const applied = audits.map((a) => a.releaseVersion!);
    expect(applied).toEqual([...applied].sort((a, b) => a - b)); // never an older one after a newer one
    expect(new Set(applied).size).toBe(applied.length);
  });
});

describe('processReleaseEvent without a fetch', () => {
  const job = (
    linkId: string,
    appId: string,
    version: number,
    extra: Partial<{ status: string; eventId: string }> = {},
  ) => ({
    eventId: extra.eventId ?? crypto.randomUUID(),
    linkId,
    appId,
    version,
    status: extra.status ?? 'succeeded',
    action: 'update',
    receivedAt: Date.now(),
  });

  it('records pending as waiting, failed and expired as dropped, without touching the link', async () => {
    const { link } = await seedLink(service);
    expect(await service.processReleaseEvent(job(link.id, link.appId, 2, { status: 'pending' }), 'w')).toMatchObject({
      outcome: 'waiting',
    });
    expect(await service.processReleaseEvent(job(link.id, link.appId, 2, { status: 'failed' }), 'w')).toMatchObject({
      outcome: 'dropped',
    });
    expect(await service.processReleaseEvent(job(link.id, link.appId, 2, { status: 'expired' }), 'w')).toMatchObject({
      outcome: 'dropped',
    });
    expect(await service.processReleaseEvent(job(link.id, link.appId, 2, { status: 'brand-new' }), 'w')).toMatchObject({
      outcome: 'ignored',
    });
    expect((await service.getSyncStatus(link.projectId)).lastReleaseVersion).toBeNull();
  });

  it('marks a version not above the applied one stale, and the same event id as already done', async () => {
    const { link } = await seedLink(service, { appliedVersion: 7 });
    const event = job(link.id, link.appId, 7);
    expect(await service.processReleaseEvent(event, 'w')).toMatchObject({ outcome: 'stale' });
    expect(await service.processReleaseEvent(event, 'w')).toMatchObject({ outcome: 'stale', alreadyDone: true });
    const [row] = await database.client.db.select().from(webhookEvents).where(eq(webhookEvents.eventId, event.eventId));
    expect(row).toMatchObject({ outcome: 'stale', attempts: 2, releaseVersion: 7 });
  });

  it('ignores events for another app, an unknown link or a disabled sync', async () => {
    const { link } = await seedLink(service);
    expect(await service.processReleaseEvent(job(link.id, crypto.randomUUID(), 9), 'w')).toMatchObject({
      outcome: 'ignored',
      reason: 'event for another app',
    });
    expect(await service.processReleaseEvent(job(crypto.randomUUID(), link.appId, 9), 'w')).toMatchObject({
      outcome: 'ignored',
      reason: 'unknown link',
    });
  });

  it('leaves a transient Heroku failure to the job’s retries, with the error shown on the link', async () => {
    const { link } = await seedLink(service); // Heroku is a closed port here
    await expect(service.processReleaseEvent(job(link.id, link.appId, 4), 'w')).rejects.toMatchObject({
      kind: 'network',
    });
    const status = await service.getSyncStatus(link.projectId);
    expect(status).toMatchObject({ state: 'active', lastReleaseVersion: null });
    expect(status.lastError).toMatch(/network/);
  });
});
