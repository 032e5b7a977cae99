import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@hds/core';
import {
  postgresClients,
  startHasuraStandIn,
  startSimPostgres,
  type HasuraMetadata,
  type HasuraStandIn,
  type PostgresServer,
  hasuraMetadata,
  postgresSource,
  TEST_POOL_SETTINGS,
} from '@hds/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGuardedDispatcher, parseOutboundPolicy } from '../../outbound/index.js';
import type { DeliveryPayload } from '../kind.js';
import { createHasuraKind, type HasuraConfig } from './hasura-kind.js';
import { HasuraMetadataApi } from './metadata-api.js';
import { rotateSource } from './rotate-source.js';

let server: PostgresServer;
const clients = postgresClients();
let admin: ReturnType<typeof clients.connect>;
let password = randomBytes(8).toString('hex');
const roleUrl = (p = password) => `postgres://app:${p}@127.0.0.1:${server.port}/app`;
/** Gives the role a new password, as a Heroku rotation does; returns the new URL. */
async function rotate(): Promise<string> {
  password = randomBytes(8).toString('hex');
  await admin.unsafe(`alter role app password '${password}'`);
  return roleUrl();
}

const adminSecret = 'hasura-kind-test-secret';
const dispatcher = createGuardedDispatcher({ policy: parseOutboundPolicy({ allowPrivate: true }) });
const kind = createHasuraKind({ dispatcher, limits: { conflicts: 3, invalidConfigurationDelaysMs: [10, 10] } });
const logger = createLogger({ app: 'hasura-kind-test', level: 'silent' });
const opened: HasuraStandIn[] = [];
const temporary: string[] = [];

beforeAll(async () => {
  server = await startSimPostgres();
  admin = clients.connect(server.url);
  await admin.unsafe(`create role app login password '${password}'`);
  await admin.unsafe('create database app owner app');
});

afterAll(async () => {
  await dispatcher.close();
  await clients.closeAll();
  await server?.close();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((h) => h.close()));
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function metadata(databaseUrl: unknown): HasuraMetadata {
  return hasuraMetadata(
    postgresSource({
      databaseUrl,
      tables: ['album'],
      connection: { isolation_level: 'repeatable-read', use_prepared_statements: true },
      configuration: { extensions_schema: 'hasura_ext' },
      extra: { customization: { root_fields: { namespace: 'app' } } },
    }),
  );
}

async function standIn(options: Parameters<typeof startHasuraStandIn>[0] = {}): Promise<HasuraStandIn> {
  const started = await startHasuraStandIn({
    adminSecret,
    metadata: metadata(roleUrl()),
    connectTimeoutSeconds: 2,
    ...options,
  });
  opened.push(started);
  return started;
}

function deliver(hasura: HasuraStandIn, value: string, extra: { secret?: string; test?: boolean } = {}) {
  const delivery: DeliveryPayload = {
    id: randomUUID(),
    projectId: randomUUID(),
    varName: 'HASURA_GRAPHQL_DATABASE_URL',
    value,
    releaseVersion: 7,
    fingerprint: 'f',
    changedAt: new Date(),
    test: extra.test,
  };
  const config: HasuraConfig = { url: hasura.url, source: 'default' };
  return kind.deliver({
    config,
    secrets: { adminSecret: extra.secret ?? adminSecret },
    delivery,
    signal: AbortSignal.timeout(20_000),
    logger,
  });
}

const sourceOf = (hasura: HasuraStandIn) => hasura.metadata().sources.find((s) => s.name === 'default')!;
const types = (hasura: HasuraStandIn) => hasura.calls().map((c) => `${c.type} ${c.status}`);

describe('the hasura destination kind', () => {
  it('rotates a source: only database_url changes, pool settings and the rest are kept, the new password connects', async () => {
    const hasura = await standIn();
    const before = sourceOf(hasura);
    const url = await rotate();
    const result = await deliver(hasura, url);
    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect(Number.isInteger(result.latencyMs)).toBe(true); // the delivery log stores whole milliseconds
    const after = sourceOf(hasura);
    expect(after).toEqual({
      ...before,
      configuration: {
        ...before.configuration,
        connection_info: { ...before.configuration.connection_info, database_url: url },
      },
    });
    expect(hasura.poolSettings('default')).toEqual(TEST_POOL_SETTINGS);
    expect(await hasura.query('default', 'select current_user as user')).toEqual([{ user: 'app' }]);
    expect(hasura.sourceUrl('default')).toBe(url);
    expect(types(hasura)).toEqual([
      'export_metadata 200',
      'pg_update_source 200',
      'get_inconsistent_metadata 200',
      'export_metadata 200',
    ]);
    // Delivering the same value again writes nothing.
    expect((await deliver(hasura, url)).outcome).toBe('delivered');
    expect(types(hasura).filter((t) => t.startsWith('pg_update_source'))).toHaveLength(1);
  });

  it('keeps an edit made between its read and its write (409): it reads again and writes on top', async () => {
    const hasura = await standIn();
    // The edit reconnects the source with the URL it has, so that one must still work: the new URL is another role's.
    const other = randomBytes(8).toString('hex');
    await admin.unsafe(`create role app_next login password '${other}'`);
    const url = `postgres://app_next:${other}@127.0.0.1:${server.port}/app`;
    hasura.afterNextExport((m) => {
      const source = m.sources[0]!;
      source.configuration.connection_info.pool_settings = { ...TEST_POOL_SETTINGS, max_connections: 9 };
      source.tables.push({ table: { schema: 'public', name: 'artist' } });
    });
    expect((await deliver(hasura, url)).outcome).toBe('delivered');
    expect(types(hasura).slice(0, 4)).toEqual([
      'export_metadata 200',
      'pg_update_source 409',
      'export_metadata 200',
      'pg_update_source 200',
    ]);
    const source = sourceOf(hasura);
    expect(source.tables).toHaveLength(2);
    expect(source.configuration.connection_info.database_url).toBe(url);
    expect(hasura.poolSettings('default')).toEqual({ ...TEST_POOL_SETTINGS, max_connections: 9 });
    expect(await hasura.query('default', 'select current_user as user')).toEqual([{ user: 'app_next' }]);
  });

  it('leaves a from_env source alone: needs_restart naming the variable and pointing at the file destination', async () => {
    const hasura = await standIn({
      env: { HASURA_GRAPHQL_DATABASE_URL: roleUrl() },
      metadata: metadata({ from_env: 'HASURA_GRAPHQL_DATABASE_URL' }),
    });
    const before = hasura.metadata();
    const result = await deliver(hasura, await rotate());
    expect(result.outcome).toBe('needs_restart');
    expect(result.error).toContain('HASURA_GRAPHQL_DATABASE_URL');
    expect(result.error).toContain('file destination');
    expect(types(hasura)).toEqual(['export_metadata 200']);
    expect(hasura.metadata()).toEqual(before);
  });

  it('retries with backoff while Hasura cannot connect with the new URL, which it does not keep', async () => {
    const hasura = await standIn();
    const oldUrl = roleUrl();
    const early = roleUrl('not-yet-set');
    const refused = await deliver(hasura, early);
    expect(refused.outcome).toBe('retry');
    expect(refused.error).toMatch(
      /^Hasura could not connect with the new URL and kept the old one: .*password authentication failed/,
    );
    expect(refused.error).not.toContain('not-yet-set');
    expect(types(hasura).filter((t) => t.startsWith('pg_update_source'))).toEqual([
      'pg_update_source 400',
      'pg_update_source 400',
      'pg_update_source 400',
    ]);
    expect(sourceOf(hasura).configuration.connection_info.database_url).toBe(oldUrl);
    // The password reaches the server between two tries: the next try succeeds.
    const api = new HasuraMetadataApi({ url: hasura.url, adminSecret, dispatcher });
    const sleeps: number[] = [];
    const result = await rotateSource({
      api,
      source: 'default',
      url: early,
      limits: { conflicts: 1, invalidConfigurationDelaysMs: [250, 250] },
      sleep: async (ms) => {
        sleeps.push(ms);
        password = 'not-yet-set';
        await admin.unsafe(`alter role app password 'not-yet-set'`);
      },
    });
    expect(result.outcome).toBe('delivered');
    expect(sleeps).toEqual([250]);
    expect(hasura.sourceUrl('default')).toBe(early);
  });

  it('falls back to replace_metadata v2 when the source is exported but not in the schema cache (not-exists)', async () => {
    // Hasura started with a URL that no longer works: the source is inconsistent and out of the cache.
    const hasura = await standIn({ metadata: metadata(roleUrl('rotated-away')) });
    const url = roleUrl();
    expect((await deliver(hasura, url)).outcome).toBe('delivered');
    expect(types(hasura)).toEqual([
      'export_metadata 200',
      'pg_update_source 400',
      'replace_metadata 200',
      'get_inconsistent_metadata 200',
      'export_metadata 200',
    ]);
    expect(hasura.poolSettings('default')).toEqual(TEST_POOL_SETTINGS);
    expect(sourceOf(hasura).customization).toEqual({ root_fields: { namespace: 'app' } });
    expect(await hasura.query('default', 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('says "Hasura refused the admin secret" for a wrong secret', async () => {
    const hasura = await standIn();
    const result = await deliver(hasura, await rotate(), { secret: 'wrong' });
    expect(result).toMatchObject({ outcome: 'retry', statusCode: 401, error: 'Hasura refused the admin secret' });
  });

  it('refills connection_parameters, keeping their form', async () => {
    const parameters = { host: '127.0.0.1', port: server.port, username: 'app', password, database: 'app' };
    const hasura = await standIn({ metadata: metadata({ connection_parameters: parameters }) });
    const url = await rotate();
    expect((await deliver(hasura, url)).outcome).toBe('delivered');
    expect(sourceOf(hasura).configuration.connection_info.database_url).toEqual({
      connection_parameters: { ...parameters, password },
    });
  });

  it('gives up on a dynamic_from_file source (a file destination keeps that file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hasura-kind-'));
    temporary.push(dir);
    writeFileSync(join(dir, 'url'), roleUrl());
    const hasura = await standIn({
      allowedPathPrefix: dir,
      metadata: metadata({ dynamic_from_file: join(dir, 'url') }),
    });
    const result = await deliver(hasura, await rotate());
    expect(result.outcome).toBe('gave_up');
    expect(result.error).toContain('file destination');
  });

  it('retries while Hasura is down, and delivers once it is back', async () => {
    const hasura = await standIn();
    await hasura.stop();
    const url = await rotate();
    const down = await deliver(hasura, url);
    expect(down.outcome).toBe('retry');
    expect(down.error).toMatch(/Hasura unreachable: ECONNREFUSED/);
    await hasura.start();
    expect((await deliver(hasura, url)).outcome).toBe('delivered');
    expect(hasura.sourceUrl('default')).toBe(url);
    expect(hasura.sourceUrlHistory('default').at(-1)).toBe(url);
  });

  it('test deliveries read and change nothing; an address the guard refuses is never called', async () => {
    const hasura = await standIn();
    expect((await deliver(hasura, 'unused', { test: true })).outcome).toBe('delivered');
    expect(types(hasura)).toEqual(['export_metadata 200']);
    const strict = createGuardedDispatcher({ policy: parseOutboundPolicy({}) });
    try {
      const guarded = createHasuraKind({ dispatcher: strict });
      const result = await guarded.deliver({
        config: { url: hasura.url, source: 'default' },
        secrets: { adminSecret },
        delivery: {
          id: 'd',
          projectId: 'p',
          varName: 'V',
          value: roleUrl(),
          releaseVersion: 1,
          fingerprint: 'f',
          changedAt: new Date(),
        },
        signal: AbortSignal.timeout(5000),
        logger,
      });
      expect(result.outcome).toBe('retry');
      expect(result.error).toMatch(/refused/);
      expect(types(hasura)).toEqual(['export_metadata 200']);
    } finally {
      await strict.close();
    }
  });

  it('refuses a base URL with credentials, a query, or another scheme at creation', async () => {
    const prepare = (url: string) =>
      kind.prepare({
        input: { url, adminSecret: 's', source: 'default' },
        context: { projectId: 'p', vars: null, projectVars: ['HASURA_GRAPHQL_DATABASE_URL'] },
      });
    await expect(prepare('https://hasura.example.com/')).resolves.toMatchObject({
      config: { url: 'https://hasura.example.com', source: 'default' },
      secrets: { adminSecret: 's' },
    });
    for (const bad of ['https://u:p@hasura.example.com', 'https://hasura.example.com/?a=1', 'ftp://hasura', 'hasura']) {
      await expect(prepare(bad)).rejects.toThrow(/url/);
    }
    // With the operator's policy, a target the outbound-address guard refuses is refused at creation.
    const guarded = createHasuraKind({ dispatcher, policy: parseOutboundPolicy({}) });
    await expect(
      guarded.prepare({
        input: { url: 'http://127.0.0.1:8080', adminSecret: 's', source: 'default' },
        context: { projectId: 'p', vars: null, projectVars: ['HASURA_GRAPHQL_DATABASE_URL'] },
      }),
    ).rejects.toThrow(/url refused/);
  });
});
