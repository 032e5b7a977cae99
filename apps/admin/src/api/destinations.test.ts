import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdmin, type AdminHarness } from '../test-support/harness.js';

let admin: AdminHarness;
const fileRoot = mkdtempSync(join(tmpdir(), 'hds-admin-files-'));
beforeAll(async () => {
  // Production's policy: no private targets, https only.
  admin = await startAdmin({ destinations: { allowPrivate: false, fileRoot } });
});
afterAll(async () => {
  await admin?.close();
  rmSync(fileRoot, { recursive: true, force: true });
});

describe('destinations in the admin API', () => {
  it('adds a webhook (its secret shown once), lists it without secrets, removes it', async () => {
    const project = await admin.createProject({ name: 'd', env: { A: 'one' } });
    const created = await admin.api('POST', `/api/projects/${project.id}/destinations`, {
      body: { kind: 'webhook', url: 'https://receiver.invalid/hook', includeValue: true, vars: ['A'] },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      kind: 'webhook',
      url: 'https://receiver.invalid/hook',
      includeValue: true,
      vars: ['A'],
      state: 'active',
    });
    const secret = created.json.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    const listed = await admin.api('GET', `/api/projects/${project.id}/destinations`);
    expect(listed.json.destinations).toEqual([expect.objectContaining({ id: created.json.id })]);
    expect(JSON.stringify(listed.json)).not.toContain(secret.slice(6));
    // The current value was queued for it at once.
    const log = await admin.api('GET', `/api/projects/${project.id}/destinations/${created.json.id}/deliveries`);
    expect(log.json.deliveries).toEqual([expect.objectContaining({ varName: 'A', status: 'pending' })]);
    const removed = await admin.api('DELETE', `/api/projects/${project.id}/destinations/${created.json.id}`);
    expect(removed.status).toBe(204);
    expect((await admin.api('GET', `/api/projects/${project.id}/destinations`)).json.destinations).toEqual([]);
    const audit = await admin.api('GET', `/api/projects/${project.id}/audit`);
    const entries = audit.json.entries as Array<{ action: string }>;
    expect(entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['destination_created', 'destination_deleted']),
    );
  });

  it.each([
    ['http://127.0.0.1:8080/hook', /loopback/],
    ['https://localhost/hook', /loopback/],
    ['https://169.254.169.254/latest/meta-data', /metadata/],
    ['https://[::ffff:10.0.0.1]/hook', /private/],
    ['https://metadata.google.internal/', /metadata/],
    ['http://93.184.216.34/hook', /https is required/],
  ])('refuses %s at creation (422)', async (url, reason) => {
    const project = await admin.createProject({ name: 'ssrf' });
    const res = await admin.api('POST', `/api/projects/${project.id}/destinations`, { body: { kind: 'webhook', url } });
    expect(res.status).toBe(422);
    expect(res.json.error.message).toMatch(reason);
    expect((await admin.api('GET', `/api/projects/${project.id}/destinations`)).json.destinations).toEqual([]);
  });

  it('pins a raw file to the project’s one var, and refuses (422) a raw file that two vars would take turns overwriting', async () => {
    const project = await admin.createProject({ name: 'raw', env: { DATABASE_URL: 'postgres://u:p@db/one' } });
    const add = (body: Record<string, unknown>) =>
      admin.api('POST', `/api/projects/${project.id}/destinations`, { body: { kind: 'file', format: 'raw', ...body } });
    const pinned = await add({ path: 'raw/database-url' });
    expect(pinned.status).toBe(201);
    expect(pinned.json.vars).toEqual(['DATABASE_URL']);

    // A second var: the pinned file does not get it, and a raw file without vars is refused, naming both.
    await admin.api('PUT', `/api/projects/${project.id}/env/REDIS_URL`, { body: { value: 'redis://cache:6379' } });
    const refused = await add({ path: 'raw/which' });
    expect(refused.status).toBe(422);
    expect(refused.json.error.message).toMatch(/this project has 2 vars \(DATABASE_URL, REDIS_URL\): name one in vars/);
    expect((await add({ path: 'raw/both', vars: ['DATABASE_URL', 'REDIS_URL'] })).status).toBe(422);
    const named = await add({ path: 'raw/redis-url', vars: ['REDIS_URL'] });
    expect(named.status).toBe(201);
    const log = await admin.api('GET', `/api/projects/${project.id}/destinations/${pinned.json.id}/deliveries`);
    expect((log.json.deliveries as Array<{ varName: string }>).map((d) => d.varName)).toEqual(['DATABASE_URL']);
  });

  it('answers 404 for another project’s destination', async () => {
    const a = await admin.createProject({ name: 'a' });
    const b = await admin.createProject({ name: 'b' });
    const created = await admin.api('POST', `/api/projects/${a.id}/destinations`, {
      body: { kind: 'webhook', url: 'https://receiver.invalid/hook' },
    });
    expect((await admin.api('DELETE', `/api/projects/${b.id}/destinations/${created.json.id}`)).status).toBe(404);
    expect((await admin.api('POST', `/api/projects/${b.id}/destinations/${created.json.id}/test`)).status).toBe(404);
  });
});

describe('project read tokens', () => {
  it('read their own project’s revealed env, and nothing else (403); revoked, they are 401', async () => {
    const a = await admin.createProject({ name: 'a', env: { DATABASE_URL: 'postgres://u:pa55@db.example/a' } });
    const b = await admin.createProject({ name: 'b', env: { DATABASE_URL: 'postgres://u:secret-b@db.example/b' } });
    const created = await admin.api('POST', `/api/projects/${a.id}/tokens`, { body: { name: 'api' } });
    expect(created.status).toBe(201);
    const token = created.json.token as string;
    expect(token).toMatch(/^hds_pt_/);

    const own = await admin.api('GET', `/api/projects/${a.id}/env?reveal=true`, { token });
    expect(own.status).toBe(200);
    expect(own.json.vars[0].value).toBe('postgres://u:pa55@db.example/a');

    const other = await admin.api('GET', `/api/projects/${b.id}/env?reveal=true`, { token });
    expect(other.status).toBe(403);
    expect(JSON.stringify(other.json)).not.toContain('secret-b');
    expect((await admin.api('GET', `/api/projects/${a.id}`, { token })).status).toBe(403);
    expect((await admin.api('GET', `/api/projects`, { token })).status).toBe(403);
    expect(
      (await admin.api('PUT', `/api/projects/${a.id}/env/DATABASE_URL`, { token, body: { value: 'x' } })).status,
    ).toBe(403);
    expect((await admin.api('POST', `/api/projects/${a.id}/tokens`, { token, body: { name: 'x' } })).status).toBe(403);

    // Only a hash is stored.
    const tokenId = created.json.id as string;
    const stored = await admin.database.client.sql`select token_hash from project_tokens where id = ${tokenId}`;
    expect(stored[0]!.token_hash).not.toContain(token.slice(7));

    expect((await admin.api('DELETE', `/api/projects/${a.id}/tokens/${tokenId}`)).status).toBe(204);
    expect((await admin.api('GET', `/api/projects/${a.id}/env?reveal=true`, { token })).status).toBe(401);
  });

  it('every reveal leaves an audit row naming who read', async () => {
    const project = await admin.createProject({ name: 'r', env: { X: 'y' } });
    const { json } = await admin.api('POST', `/api/projects/${project.id}/tokens`, { body: { name: 'reader' } });
    await admin.api('GET', `/api/projects/${project.id}/env?reveal=true`, { token: json.token });
    await admin.api('GET', `/api/projects/${project.id}/env?reveal=true`);
    await admin.api('GET', `/api/projects/${project.id}/env`);
    const audit = await admin.api('GET', `/api/projects/${project.id}/audit`);
    const reveals = (audit.json.entries as Array<{ action: string }>).filter((e) => e.action === 'env_revealed');
    expect(reveals).toEqual([
      expect.objectContaining({ actor: 'admin' }),
      expect.objectContaining({ actor: 'project_token', detail: { tokenId: json.id } }),
    ]);
  });
});
