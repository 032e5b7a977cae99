// A 409 means "lost a race, retry" on most routes, but not on the migration routes or a redelivery: there it is a
// state that retrying does not change. The document says so route by route, and the routes answer those 409s.
import { dataMigrations } from '@hds/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenApiDocument } from './openapi-document.js';
import { startAdminWithSim, type AdminWithSim } from '../test-support/with-sim.js';

let t: AdminWithSim;
let document: OpenApiDocument;

beforeAll(async () => {
  t = await startAdminWithSim();
  document = (await t.admin.api('GET', '/api/openapi.json')).json as OpenApiDocument;
});
afterAll(() => t?.close());

/** The documented description of `status` on `operationId`. */
function described(operationId: string, status: number): string {
  for (const item of Object.values(document.paths ?? {})) {
    for (const op of [item.get, item.put, item.post, item.delete, item.patch]) {
      if (op?.operationId === operationId)
        return (op.responses?.[String(status)] as { description: string }).description;
    }
  }
  throw new Error(`no operation ${operationId}`);
}

/** A project synced with a sim app, and its link id. */
async function syncedProject(name: string): Promise<{ projectId: string; linkId: string }> {
  t.sim.createApp({ name, accountId: t.owner.id });
  const project = await t.admin.createProject({ name });
  const enabled = await t.admin.api('PUT', `/api/projects/${project.id}/heroku-sync`, {
    body: { accountId: t.accountId, app: name },
  });
  expect(enabled.status).toBe(200);
  return { projectId: project.id, linkId: enabled.json.linkId as string };
}

/** A migration row as the worker leaves it (its target is never read by these routes). */
async function migrationIn(
  project: { projectId: string; linkId: string },
  values: Partial<typeof dataMigrations.$inferInsert>,
): Promise<string> {
  const [row] = await t.admin.database.client.db
    .insert(dataMigrations)
    .values({
      projectId: project.projectId,
      linkId: project.linkId,
      targetUrlEncrypted: 'unused',
      targetRedacted: 'unused',
      ...values,
    })
    .returning({ id: dataMigrations.id });
  return row!.id;
}

describe('409s in the OpenAPI document', () => {
  it('keeps the general meaning (a lost race) where that is what a 409 is', () => {
    expect(described('enableHerokuSync', 409)).toBe('`conflict`: lost a race with a concurrent write; retry');
  });

  it('says why starting a migration conflicts, and the route answers so after a cut-over', async () => {
    const description = described('startMigration', 409);
    expect(description).not.toMatch(/race|retry/);
    expect(description).toContain('already cut over');
    expect(description).toContain('another migration of the project is running');

    const project = await syncedProject('conflict-cut-over');
    await migrationIn(project, { state: 'done', cutover: true, cutoverAt: new Date(), finishedAt: new Date() });
    const started = await t.admin.api('POST', `/api/projects/${project.projectId}/migrations`, {
      body: { targetUrl: 'postgres://app:secret@127.0.0.1:5432/conflict' },
    });
    expect(started.status).toBe(409);
    expect(started.json.error).toEqual({
      code: 'conflict',
      message: 'this project already cut over to its new database',
    });
  });

  it('says why a cancel conflicts, and the route answers so for a finished and a cutting-over migration', async () => {
    const description = described('cancelMigration', 409);
    expect(description).not.toMatch(/race|retry/);
    expect(description).toContain('has finished');
    expect(description).toContain('cutting over');

    const project = await syncedProject('conflict-cancel');
    const finished = await migrationIn(project, { state: 'failed', finishedAt: new Date() });
    const cancel = (id: string) => t.admin.api('POST', `/api/projects/${project.projectId}/migrations/${id}/cancel`);
    const refused = await cancel(finished);
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toBe('the migration is already failed');
    const cuttingOver = await migrationIn(project, { state: 'cutover', cutover: true });
    expect((await cancel(cuttingOver)).json.error).toEqual({
      code: 'conflict',
      message: 'the migration is cutting over; it can no longer be cancelled',
    });
  });

  it('says why a redelivery conflicts, and the route answers so for a delivery a newer one replaced', async () => {
    const description = described('redeliverDelivery', 409);
    expect(description).not.toMatch(/race|retry/);
    expect(description).toContain('a newer value of that var was delivered since');

    const project = await t.admin.createProject({ name: 'conflict-redeliver' });
    const destination = await t.admin.destinations.create({
      projectId: project.id,
      kind: 'webhook',
      body: { url: 'https://hooks.example.com/conflict' },
    });
    // Two values of one var, each a delivery to the destination: the older one may not be sent again.
    for (const value of ['first', 'second']) {
      expect((await t.admin.api('PUT', `/api/projects/${project.id}/env/LOG_LEVEL`, { body: { value } })).status).toBe(
        200,
      );
    }
    const listed = await t.admin.destinations.listDeliveries(project.id, destination.id, 10);
    expect(listed.map((d) => d.varName)).toEqual(['LOG_LEVEL', 'LOG_LEVEL']);
    const older = listed[1]!;
    const redelivered = await t.admin.api('POST', `/api/projects/${project.id}/deliveries/${older.id}/redeliver`);
    expect(redelivered.status).toBe(409);
    expect(redelivered.json.error.code).toBe('conflict');
  });
});
