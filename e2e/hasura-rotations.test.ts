// Heroku rotations reaching a running Hasura, both ways: heroku-sim with real databases (a cluster that checks
// passwords) rotates an app's credentials; the hasura kind puts each new URL into the Hasura stand-in's source through
// the metadata API, and the file kind writes it where a `dynamic_from_file` source reads it. After each rotation the
// stand-in's sources connect with the new password, with their pool settings unchanged, and the old URL is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@hds/core';
import { createFileKind, createGuardedDispatcher, createHasuraKind, parseOutboundPolicy } from '@hds/destinations';
import type { DeliveryPayload } from '@hds/destinations';
import { startHerokuSim, type HerokuSim } from '@hds/heroku-sim';
import {
  postgresClients,
  SimClient,
  simPostgresPrefix,
  startHasuraStandIn,
  startSimPostgres,
  type HasuraStandIn,
  type PostgresServer,
  type SimApp,
  hasuraMetadata,
  postgresSource,
  TEST_POOL_SETTINGS,
} from '@hds/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const logger = createLogger({ app: 'hasura-rotations', level: 'silent' });

describe('rotations reach a running Hasura (heroku-sim real databases, the Hasura stand-in)', () => {
  let server: PostgresServer;
  let sim: HerokuSim;
  let client: SimClient;
  let app: SimApp;
  let hasura: HasuraStandIn;
  let root: string;
  const dispatcher = createGuardedDispatcher({ policy: parseOutboundPolicy({ allowPrivate: true }) });
  const clients = postgresClients();

  beforeAll(async () => {
    server = await startSimPostgres();
    sim = await startHerokuSim({ postgres: { adminUrl: server.url, prefix: simPostgresPrefix() } });
    client = new SimClient({ url: (await sim.listen()).url });
    const account = await client.createAccount({ email: 'hasura@example.com' });
    app = await client.createApp({ name: 'hasura-app', accountId: account.id });
    root = mkdtempSync(join(tmpdir(), 'hasura-rotations-'));
    const fileKind = createFileKind({ root });
    // The file a `dynamic_from_file` source reads exists before Hasura starts, as with any mounted secret.
    await fileKind.deliver({
      config: { path: 'hasura/database-url', format: 'raw' },
      secrets: {},
      delivery: payload(app.databaseUrl),
      signal: AbortSignal.timeout(5000),
      logger,
    });
    const source = (name: string, databaseUrl: unknown) =>
      postgresSource({
        name,
        databaseUrl,
        tables: ['customers'],
        connection: { isolation_level: 'repeatable-read', use_prepared_statements: true },
      });
    hasura = await startHasuraStandIn({
      adminSecret: 'rotations-secret',
      allowedPathPrefix: root,
      connectTimeoutSeconds: 3,
      metadata: hasuraMetadata(
        source('default', app.databaseUrl),
        source('from_file', { dynamic_from_file: join(root, 'hasura', 'database-url') }),
      ),
    });
  });

  afterAll(async () => {
    await hasura?.close();
    await clients.closeAll();
    await sim?.close();
    await dispatcher.close();
    await server?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  function payload(value: string): DeliveryPayload {
    return {
      id: `d-${Math.random()}`,
      projectId: 'p',
      varName: 'HASURA_GRAPHQL_DATABASE_URL',
      value,
      releaseVersion: null,
      fingerprint: 'f',
      changedAt: new Date(),
    };
  }

  it('after each of 5 rotations both sources connect with the new password, their pool settings unchanged', async () => {
    const hasuraKind = createHasuraKind({ dispatcher });
    const fileKind = createFileKind({ root });
    const role = new URL(app.databaseUrl).username;
    let previous = app.databaseUrl;
    for (let round = 1; round <= 5; round += 1) {
      const rotation = await client.rotateCredentials(app.name);
      expect(rotation.databaseUrl).not.toBe(previous);
      const delivery = payload(rotation.databaseUrl);
      const signal = AbortSignal.timeout(20_000);
      const viaApi = await hasuraKind.deliver({
        config: { url: hasura.url, source: 'default' },
        secrets: { adminSecret: 'rotations-secret' },
        delivery,
        signal,
        logger,
      });
      expect(viaApi, `round ${round}`).toMatchObject({ outcome: 'delivered' });
      const viaFile = await fileKind.deliver({
        config: { path: 'hasura/database-url', format: 'raw' },
        secrets: {},
        delivery,
        signal,
        logger,
      });
      expect(viaFile.outcome).toBe('delivered');
      for (const source of ['default', 'from_file']) {
        expect(await hasura.query(source, 'select current_user as user'), `${source}, round ${round}`).toEqual([
          { user: role },
        ]);
        expect(hasura.sourceUrl(source)).toBe(rotation.databaseUrl);
        expect(hasura.poolSettings(source)).toEqual(TEST_POOL_SETTINGS);
      }
      expect(hasura.metadata().sources[0]!.configuration.connection_info).toMatchObject({
        isolation_level: 'repeatable-read',
        use_prepared_statements: true,
        pool_settings: TEST_POOL_SETTINGS,
      });
      await expect(clients.connect(previous)`select 1`).rejects.toMatchObject({ code: '28P01' });
      previous = rotation.databaseUrl;
    }
  });
});
