import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresServer } from '../postgres-server.js';
import { sharedHasuraExamplesDir } from '../shared.js';
import { startSimPostgres } from '../sim-postgres.js';
import { startHasuraStandIn, type HasuraMetadata, type HasuraStandIn } from './index.js';

const example = <T>(name: string): T => JSON.parse(readFileSync(join(sharedHasuraExamplesDir, name), 'utf8')) as T;
const exportExample = example<{ resource_version: number; metadata: HasuraMetadata }>('export-metadata-v2.json');
const responses = example<{ case: string; status: number; body: unknown }[]>('responses.json');
const response = (startsWith: string) => {
  const found = responses.find((r) => r.case.startsWith(startsWith));
  if (!found) throw new Error(`no example response "${startsWith}"`);
  return found;
};

let server: PostgresServer;
let admin: postgres.Sql;
/** A role and database on the password-checking cluster; `rotate()` gives the role a new password. */
interface Role {
  url: (password?: string) => string;
  rotate: () => Promise<string>;
}
let role: Role;
const secret = 'stand-in-admin-secret';
const opened: HasuraStandIn[] = [];
const temporary: string[] = [];

beforeAll(async () => {
  server = await startSimPostgres();
  admin = postgres(server.url, { max: 1, onnotice: () => {} });
  let password = randomBytes(8).toString('hex');
  await admin.unsafe(`create role chinook login password '${password}'`);
  await admin.unsafe('create database chinook owner chinook');
  const url = (p = password) => `postgres://chinook:${p}@127.0.0.1:${server.port}/chinook`;
  role = {
    url,
    rotate: async () => {
      password = randomBytes(8).toString('hex');
      await admin.unsafe(`alter role chinook password '${password}'`);
      return url();
    },
  };
});

afterAll(async () => {
  await admin?.end({ timeout: 1 });
  await server?.close();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((h) => h.close()));
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The example export with `chinook` pointed at the real database, and `default` reading a real one from env. */
function exampleMetadata(chinookUrl: string): HasuraMetadata {
  const metadata = structuredClone(exportExample.metadata);
  const chinook = metadata.sources.find((s) => s.name === 'chinook')!;
  chinook.configuration.connection_info.database_url = chinookUrl;
  chinook.configuration.connection_info.pool_settings = { max_connections: 7, idle_timeout: 30, retries: 2 };
  chinook.customization = { root_fields: { namespace: 'chinook' } };
  return metadata;
}

async function standIn(options: Parameters<typeof startHasuraStandIn>[0] = {}): Promise<HasuraStandIn> {
  const started = await startHasuraStandIn({
    adminSecret: secret,
    env: { HASURA_GRAPHQL_DATABASE_URL: role.url() },
    metadata: exampleMetadata(role.url()),
    connectTimeoutSeconds: 2,
    ...options,
  });
  opened.push(started);
  return started;
}

async function call(hasura: HasuraStandIn, body: unknown, headers: Record<string, string> = {}) {
  const answer = await fetch(`${hasura.url}/v1/metadata`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': secret, ...headers },
    body: JSON.stringify(body),
  });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

describe('the Hasura stand-in', () => {
  it('exports version 2 with resource_version, version 1 bare, like the example', async () => {
    const hasura = await standIn();
    const v2 = await call(hasura, { type: 'export_metadata', version: 2, args: {} });
    expect(v2.status).toBe(200);
    expect(v2.body.resource_version).toBe(exportExample.resource_version);
    expect(v2.body.metadata).toEqual(exampleMetadata(role.url()));
    const v1 = await call(hasura, { type: 'export_metadata', args: {} });
    expect(v1.body).toEqual(exampleMetadata(role.url()));
    expect(await hasura.query('chinook', 'select current_user as user')).toEqual([{ user: 'chinook' }]);
  });

  it('refuses a missing or wrong admin secret and a non-admin role with the documented bodies', async () => {
    const hasura = await standIn();
    const exportCall = { type: 'export_metadata', version: 2, args: {} };
    const missing = await fetch(`${hasura.url}/v1/metadata`, { method: 'POST', body: JSON.stringify(exportCall) });
    const missingCase = response('x-hasura-admin-secret missing');
    expect(missing.status).toBe(missingCase.status);
    expect(await missing.json()).toEqual(missingCase.body);
    const wrong = await call(hasura, exportCall, { 'x-hasura-admin-secret': 'not it' });
    expect(wrong).toEqual({ status: 401, body: response('x-hasura-admin-secret wrong').body });
    const user = await call(hasura, exportCall, { 'x-hasura-role': 'user' });
    expect(user).toEqual({ status: 400, body: response('caller resolved to a non-admin role').body });
  });

  it('answers 404 not-found for an unknown path, and for /v1/metadata with the metadata API disabled', async () => {
    const disabledCase = response('metadata API disabled');
    const hasura = await standIn();
    const unknown = await fetch(`${hasura.url}/v1/nothing`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual(disabledCase.body);
    const disabled = await standIn({ metadataApiDisabled: true });
    expect(await call(disabled, { type: 'export_metadata', args: {} })).toEqual({
      status: 404,
      body: disabledCase.body,
    });
  });

  it('answers a stale resource_version with 409 conflict and changes nothing', async () => {
    const hasura = await standIn();
    const before = hasura.metadata();
    const stale = await call(hasura, {
      type: 'pg_update_source',
      resource_version: 2,
      args: { name: 'chinook', configuration: { connection_info: { database_url: role.url() } } },
    });
    expect(stale).toEqual({ status: 409, body: response('stale resource_version').body });
    expect(hasura.metadata()).toEqual(before);
    expect(hasura.resourceVersion()).toBe(1);
  });

  it('replaces the whole configuration on pg_update_source (no merge), keeps customization, bumps the version', async () => {
    const hasura = await standIn();
    expect(hasura.poolSettings('chinook')).toMatchObject({ max_connections: 7, idle_timeout: 30, retries: 2 });
    const newUrl = await role.rotate();
    const updated = await call(hasura, {
      type: 'pg_update_source',
      resource_version: 1,
      args: { name: 'chinook', configuration: { connection_info: { database_url: newUrl } } },
    });
    expect(updated).toEqual({ status: 200, body: response('success of pg_add_source').body });
    expect(hasura.resourceVersion()).toBe(2);
    const chinook = hasura.metadata().sources.find((s) => s.name === 'chinook')!;
    expect(chinook.configuration).toEqual({ connection_info: { database_url: newUrl } });
    expect(chinook.customization).toEqual({ root_fields: { namespace: 'chinook' } });
    // Omitted pool settings fell back to Hasura's defaults: this is why a client must send every field back.
    expect(hasura.poolSettings('chinook')).toEqual({
      max_connections: 50,
      idle_timeout: 180,
      retries: 1,
      connection_lifetime: 600,
    });
    expect(hasura.sourceUrl('chinook')).toBe(newUrl);
    expect(await hasura.query('chinook', 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('connects before it keeps a URL: the example update to an unreachable host is invalid-configuration', async () => {
    const hasura = await standIn();
    const body = example<Record<string, unknown>>('pg-update-source.json');
    const before = hasura.metadata();
    const refused = await call(hasura, body);
    const sample = response('source configuration rejected') as { body: Record<string, unknown> };
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: sample.body.code, error: sample.body.error, path: '$.args' });
    expect(refused.body.internal).toEqual([
      expect.objectContaining({
        definition: 'chinook',
        name: 'source chinook',
        type: 'source',
        reason: 'Inconsistent object: connection error',
      }),
    ]);
    // A reachable server with a wrong password is refused the same way.
    const wrongPassword = await call(hasura, {
      type: 'pg_update_source',
      args: { name: 'chinook', configuration: { connection_info: { database_url: role.url('wrong') } } },
    });
    expect(wrongPassword.body.code).toBe('invalid-configuration');
    expect(JSON.stringify(wrongPassword.body.internal)).toContain('password authentication failed');
    expect(hasura.metadata()).toEqual(before);
    expect(hasura.resourceVersion()).toBe(1);
    expect(await hasura.query('chinook', 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('keeps a source that cannot connect out of the cache: inconsistent, not-exists, replace_metadata v2 mends it', async () => {
    // The example export as it is: chinook names host.docker.internal:6001, which is not there.
    const hasura = await standIn({ metadata: exportExample.metadata });
    const report = await call(hasura, { type: 'get_inconsistent_metadata', args: {} });
    const sample = response('get_inconsistent_metadata with an unreachable source') as {
      body: { inconsistent_objects: Record<string, unknown>[] };
    };
    expect(report.body.is_consistent).toBe(false);
    const [object] = report.body.inconsistent_objects as Record<string, unknown>[];
    expect(Object.keys(object!).sort()).toEqual(Object.keys(sample.body.inconsistent_objects[0]!).sort());
    expect(object).toMatchObject({ definition: 'chinook', name: 'source chinook', type: 'source' });
    const update = await call(hasura, {
      type: 'pg_update_source',
      args: { name: 'chinook', configuration: { connection_info: { database_url: role.url() } } },
    });
    expect(update).toEqual({
      status: 400,
      body: { path: '$.args', error: 'source with name "chinook" does not exist', code: 'not-exists' },
    });
    const edited = exampleMetadata(role.url());
    const replaced = await call(hasura, {
      type: 'replace_metadata',
      version: 2,
      resource_version: 1,
      args: { metadata: edited },
    });
    expect(replaced.status).toBe(200);
    expect(hasura.resourceVersion()).toBe(2);
    expect(await call(hasura, { type: 'get_inconsistent_metadata', args: {} })).toEqual({
      status: 200,
      body: { is_consistent: true, inconsistent_objects: [] },
    });
    expect(await hasura.query('chinook', 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('resolves from_env from its start-up snapshot only, and dynamic_from_file under the allowed prefix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hasura-secrets-'));
    temporary.push(dir);
    const file = join(dir, 'chinook-url');
    writeFileSync(file, `${role.url()}\n`);
    const hasura = await standIn({ allowedPathPrefix: dir });
    expect(await hasura.query('default', 'select current_user as user')).toEqual([{ user: 'chinook' }]);
    const unset = await call(hasura, {
      type: 'pg_update_source',
      args: { name: 'chinook', configuration: { connection_info: { database_url: { from_env: 'NOT_SET' } } } },
    });
    expect(unset).toEqual({
      status: 400,
      body: { path: '$.args', error: "environment variable 'NOT_SET' not set", code: 'not-found' },
    });
    const outside = await call(hasura, {
      type: 'pg_update_source',
      args: {
        name: 'chinook',
        configuration: { connection_info: { database_url: { dynamic_from_file: '/etc/passwd' } } },
      },
    });
    expect(outside.status).toBe(400);
    expect(outside.body.code).toBe('permission-error');
    const inside = await call(hasura, {
      type: 'pg_update_source',
      args: { name: 'chinook', configuration: { connection_info: { database_url: { dynamic_from_file: file } } } },
    });
    expect(inside.status).toBe(200);
    // A new password: the file is re-read for new connections, without any metadata call.
    const rotated = await role.rotate();
    writeFileSync(file, `${rotated}\n`);
    expect(await hasura.query('chinook', 'select 1 as one')).toEqual([{ one: 1 }]);
    expect(hasura.sourceUrl('chinook')).toBe(rotated);
  });

  it('adds a source with pg_add_source, connecting first; an existing name is already-exists', async () => {
    const hasura = await standIn();
    const exists = await call(hasura, {
      type: 'pg_add_source',
      args: { name: 'chinook', configuration: { connection_info: { database_url: role.url() } } },
    });
    const existsCase = response('pg_add_source for a name that exists') as { body: Record<string, unknown> };
    expect(exists).toEqual({
      status: 400,
      body: { ...existsCase.body, error: 'source with name "chinook" already exists' },
    });
    const unreachable = await call(hasura, {
      type: 'pg_add_source',
      args: { name: 'pg1', configuration: { connection_info: { database_url: role.url('wrong') } } },
    });
    expect(unreachable.body.code).toBe('invalid-configuration');
    const added = await call(hasura, {
      type: 'pg_add_source',
      args: { name: 'pg1', configuration: { connection_info: { database_url: role.url() } } },
    });
    expect(added).toEqual({ status: 200, body: { message: 'success' } });
    expect(hasura.metadata().sources.map((s) => s.name)).toEqual(['default', 'chinook', 'pg1']);
    expect(await hasura.query('pg1', 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('stops listening and starts again on the same port with its state', async () => {
    const hasura = await standIn();
    await hasura.editMetadata((m) => {
      m.sources.find((s) => s.name === 'chinook')!.configuration.connection_info.isolation_level = 'serializable';
    });
    await hasura.stop();
    await expect(fetch(`${hasura.url}/healthz`)).rejects.toThrow();
    await hasura.start();
    const health = await fetch(`${hasura.url}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'OK']);
    expect(hasura.resourceVersion()).toBe(2);
    expect(hasura.calls()).toEqual([]);
  });
});
