import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postgresClients,
  startHasuraStandIn,
  startProcess,
  startSimPostgres,
  type HasuraStandIn,
  type PostgresServer,
  hasuraMetadata,
  postgresSource,
} from '@hds/testkit';

/** docker-compose's `hasura-source` job, against the Hasura stand-in. */
describe('tools/hasura-source.js', () => {
  let server: PostgresServer;
  let hasura: HasuraStandIn;
  let dir: string;
  const clients = postgresClients();

  beforeAll(async () => {
    server = await startSimPostgres();
    await clients.connect(server.url).unsafe(`create role app login password 'first'`);
    dir = mkdtempSync(join(tmpdir(), 'hasura-source-'));
    hasura = await startHasuraStandIn({
      adminSecret: 'secret',
      allowedPathPrefix: dir,
      connectTimeoutSeconds: 2,
      metadata: hasuraMetadata(
        postgresSource({
          databaseUrl: `postgres://app:first@127.0.0.1:${server.port}/postgres`,
          connection: { pool_settings: { max_connections: 5 }, isolation_level: 'serializable' },
        }),
      ),
    });
  });

  afterAll(async () => {
    await hasura?.close();
    await clients.closeAll();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits until the file holds a working URL, then switches the source to it, keeping the rest', async () => {
    const file = join(dir, 'hasura', 'database-url');
    const job = startProcess({
      name: 'hasura-source',
      env: {},
      args: ['tools/hasura-source.js', hasura.url, 'secret', 'default', file],
    });
    try {
      await job.waitForLine((line) => line.startsWith('waiting for'), { timeoutMs: 10_000 });
      // What a file destination writes (raw): the URL and a newline.
      mkdirSync(join(dir, 'hasura'));
      writeFileSync(join(dir, 'hasura', 'database-url'), `postgres://app:first@127.0.0.1:${server.port}/postgres\n`);
      const result = await job.exited;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toContain('first');
      const source = hasura.metadata().sources[0]!;
      expect(source.configuration.connection_info).toEqual({
        database_url: { dynamic_from_file: file },
        pool_settings: { max_connections: 5 },
        isolation_level: 'serializable',
      });
      expect(await hasura.query('default', 'select current_user as user')).toEqual([{ user: 'app' }]);
    } finally {
      await job.stop('SIGKILL');
    }
  });

  it('adds the source when Hasura has none (a fresh Hasura without HASURA_GRAPHQL_DATABASE_URL)', async () => {
    const empty = await startHasuraStandIn({
      adminSecret: 'secret',
      allowedPathPrefix: dir,
      metadata: { version: 3, sources: [] },
    });
    try {
      const file = join(dir, 'hasura', 'database-url');
      mkdirSync(join(dir, 'hasura'), { recursive: true });
      writeFileSync(file, `postgres://app:first@127.0.0.1:${server.port}/postgres\n`);
      const job = startProcess({
        name: 'hasura-source',
        env: {},
        args: ['tools/hasura-source.js', empty.url, 'secret', 'default', file],
      });
      const result = await job.exited;
      expect(result.code, result.stderr).toBe(0);
      expect(empty.calls().map((c) => `${c.type} ${c.status}`)).toEqual([
        'export_metadata 200',
        'pg_add_source 200',
        'export_metadata 200',
      ]);
      expect(empty.metadata().sources[0]).toMatchObject({
        name: 'default',
        configuration: { connection_info: { database_url: { dynamic_from_file: file } } },
      });
    } finally {
      await empty.close();
    }
  });
});
