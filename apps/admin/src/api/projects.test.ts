import { projectEnvVars } from '@hds/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdmin, type AdminHarness } from '../test-support/harness.js';

let admin: AdminHarness;

beforeAll(async () => {
  admin = await startAdmin();
});
afterAll(() => admin.close());

const DB_URL = 'postgres://u1:first-secret@db.example.com:5432/app';
const missingId = '0b7cbb4e-4a87-4f55-9f4c-2a3f0e1c9d11';

describe('projects', () => {
  it('creates a project with env vars, and lists and reads it with its (off) sync', async () => {
    const created = await admin.api('POST', '/api/projects', {
      body: { name: 'shop', env: { HASURA_GRAPHQL_DATABASE_URL: DB_URL, PLAIN: 'x' } },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/projects/${created.json.id}`);
    expect(created.json).toMatchObject({ name: 'shop', sync: { enabled: false, state: 'disabled', app: null } });

    const one = await admin.api('GET', `/api/projects/${created.json.id}`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual(created.json);

    const list = await admin.api('GET', '/api/projects');
    expect(list.status).toBe(200);
    expect((list.json.projects as { id: string }[]).map((p) => p.id)).toContain(created.json.id);
  });

  it('refuses bad bodies with 400 naming the field, and creates nothing', async () => {
    const before: number = (await admin.api('GET', '/api/projects')).json.projects.length;
    const cases: unknown[] = [
      {},
      { name: '' },
      { name: 42 },
      { name: 'x', extra: true },
      { name: 'x', env: { '1BAD': 'v' } },
      { name: 'x', env: { GOOD: 5 } },
      { name: 'x', heroku: { accountId: 'not-a-uuid', app: 'a' } },
      { name: 'x', heroku: { accountId: missingId, app: '../etc' } },
      { name: 'x', heroku: { accountId: missingId, app: 'a', mappings: { DATABASE_URL: 'bad name' } } },
      [],
    ];
    for (const body of cases) {
      const res = await admin.api('POST', '/api/projects', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('invalid_input');
      expect(res.json.error.message).toMatch(/^invalid body: /);
    }
    expect((await admin.api('GET', '/api/projects')).json.projects).toHaveLength(before);
  });

  it('answers malformed JSON with 400 invalid_json and no stack trace', async () => {
    const res = await admin.api('POST', '/api/projects', { rawBody: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: { code: 'invalid_json', message: 'the request body is not valid JSON' } });
  });

  it('answers an oversized body with 413', async () => {
    const res = await admin.api('POST', '/api/projects', { rawBody: JSON.stringify({ name: 'x'.repeat(300_000) }) });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('payload_too_large');
  });

  it('answers 400 for an id that is not a UUID and 404 for one that does not exist', async () => {
    const bad = await admin.api('GET', '/api/projects/123');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toEqual({ code: 'invalid_input', message: 'invalid path: id: must be a UUID' });
    const missing = await admin.api('GET', `/api/projects/${missingId}`);
    expect(missing.status).toBe(404);
    expect(missing.json.error).toEqual({ code: 'not_found', message: 'no such project' });
  });

  it('refuses a creation with an unknown Heroku account with 404, creating nothing', async () => {
    const before: number = (await admin.api('GET', '/api/projects')).json.projects.length;
    const res = await admin.api('POST', '/api/projects', {
      body: { name: 'orphan', heroku: { accountId: missingId, app: 'some-app' } },
    });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('not_found');
    expect((await admin.api('GET', '/api/projects')).json.projects).toHaveLength(before);
  });

  it('answers unknown API routes with a JSON 404', async () => {
    const res = await admin.api('GET', '/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('not_found');
  });
});

describe('env vars', () => {
  it('lists values masked unless revealed, sets one by hand with a redacted audit row', async () => {
    const project = await admin.createProject({ name: 'env', env: { HASURA_GRAPHQL_DATABASE_URL: DB_URL } });
    const masked = await admin.api('GET', `/api/projects/${project.id}/env`);
    expect(masked.status).toBe(200);
    expect(masked.json.vars).toEqual([
      {
        name: 'HASURA_GRAPHQL_DATABASE_URL',
        value: 'postgres://****:****@db.example.com:5432/app',
        fingerprint: expect.stringMatching(/^hmac-sha256:[0-9a-f]{24}$/),
        source: 'manual',
        updatedAt: expect.any(String),
      },
    ]);
    const firstFingerprint: string = masked.json.vars[0].fingerprint;
    expect(JSON.stringify(masked.json)).not.toContain('first-secret');

    const revealed = await admin.api('GET', `/api/projects/${project.id}/env?reveal=true`);
    expect(revealed.json.vars[0].value).toBe(DB_URL);

    const newUrl = 'postgres://u1:second-secret@db.example.com:5432/app';
    const put = await admin.api('PUT', `/api/projects/${project.id}/env/HASURA_GRAPHQL_DATABASE_URL`, {
      body: { value: newUrl },
    });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ changed: true, var: { name: 'HASURA_GRAPHQL_DATABASE_URL', source: 'manual' } });
    expect(JSON.stringify(put.json)).not.toContain('second-secret');
    // Same masked form (only the password changed), another fingerprint.
    expect(put.json.var.value).toBe(masked.json.vars[0].value);
    expect(put.json.var.fingerprint).not.toBe(firstFingerprint);
    const again = await admin.api('PUT', `/api/projects/${project.id}/env/HASURA_GRAPHQL_DATABASE_URL`, {
      body: { value: newUrl },
    });
    expect(again.json.changed).toBe(false);

    // Stored encrypted: the row holds no plaintext.
    const [row] = await admin.database.client.db
      .select()
      .from(projectEnvVars)
      .where(eq(projectEnvVars.projectId, project.id));
    expect(row!.valueEncrypted).not.toContain('second-secret');

    const audit = await admin.api('GET', `/api/projects/${project.id}/audit?limit=10`);
    expect(audit.status).toBe(200);
    // Every reveal is audited too (`env_revealed`, by whom); the changes are the rest.
    const entries = audit.json.entries as { action: string; actor: string }[];
    expect(entries.filter((e) => e.action === 'env_revealed').length).toBeGreaterThan(0);
    const changes = entries.filter((e) => e.action !== 'env_revealed');
    expect(changes[0]).toMatchObject({
      action: 'env_set',
      varName: 'HASURA_GRAPHQL_DATABASE_URL',
      before: 'postgres://****:****@db.example.com:5432/app',
      after: 'postgres://****:****@db.example.com:5432/app',
      releaseVersion: null,
      eventId: null,
      actor: 'admin',
    });
    expect(changes.map((e) => e.action)).toEqual(['env_set', 'env_set']);
    expect(JSON.stringify(audit.json)).not.toMatch(/first-secret|second-secret/);
  });

  it('refuses bad names, values and queries with 400; unknown projects with 404', async () => {
    const project = await admin.createProject({ name: 'env-bad' });
    const base = `/api/projects/${project.id}`;
    expect((await admin.api('PUT', `${base}/env/9NOPE`, { body: { value: 'x' } })).status).toBe(400);
    expect((await admin.api('PUT', `${base}/env/GOOD`, { body: { value: 1 } })).status).toBe(400);
    expect((await admin.api('PUT', `${base}/env/GOOD`, { body: {} })).status).toBe(400);
    expect((await admin.api('PUT', `${base}/env/GOOD`, { body: { value: 'x'.repeat(40_000) } })).status).toBe(400);
    expect((await admin.api('GET', `${base}/env?reveal=yes`)).status).toBe(400);
    expect((await admin.api('GET', `/api/projects/${missingId}/env`)).status).toBe(404);
    expect((await admin.api('PUT', `/api/projects/${missingId}/env/GOOD`, { body: { value: 'x' } })).status).toBe(404);
    expect((await admin.api('GET', `${base}/env`)).json.vars).toEqual([]);
  });
});

describe('audit', () => {
  it('pages newest first with limit and before, and validates the query', async () => {
    const project = await admin.createProject({ name: 'audit' });
    for (const value of ['a', 'b', 'c']) {
      await admin.api('PUT', `/api/projects/${project.id}/env/V`, { body: { value } });
    }
    const first = await admin.api('GET', `/api/projects/${project.id}/audit?limit=2`);
    expect(first.json.entries).toHaveLength(2);
    const [newest, second] = first.json.entries as { id: number }[];
    expect(newest!.id).toBeGreaterThan(second!.id);
    const rest = await admin.api('GET', `/api/projects/${project.id}/audit?limit=2&before=${second!.id}`);
    expect(rest.json.entries).toHaveLength(1);
    expect((rest.json.entries as { id: number }[])[0]!.id).toBeLessThan(second!.id);

    for (const query of ['limit=0', 'limit=abc', 'limit=100000', 'before=-1']) {
      const res = await admin.api('GET', `/api/projects/${project.id}/audit?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error.code).toBe('invalid_input');
    }
    expect((await admin.api('GET', `/api/projects/${missingId}/audit`)).status).toBe(404);
  });
});
