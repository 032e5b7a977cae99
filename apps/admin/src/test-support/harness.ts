import { createLogger, createMetricsRegistry, Keyring, listen, type RunningServer } from '@hds/core';
import { pingDb } from '@hds/db';
import { createDestinationKinds, DestinationsService, parseOutboundPolicy, type LookupAll } from '@hds/destinations';
import { createRedis, JobProducer, pingRedis } from '@hds/queue';
import { SyncService, type ProjectView, type SyncDeps } from '@hds/sync';
import {
  createTestDatabase,
  createTestRedis,
  testEncryptionKeys,
  testServices,
  testWebhookSigningKeys,
  type TestDatabase,
  type TestRedis,
} from '@hds/testkit';
import type { Redis } from 'ioredis';
import { MigrationService, targetAddressCheck } from '@hds/migrate-data';
import { createAdminApp } from '../app.js';
import { enqueueMigration } from '../jobs.js';
import type { HerokuOAuthConfig } from '../auth/heroku-oauth.js';
import { redisOAuthStateStore } from '../auth/oauth-state.js';
import { listenForProjectChanges } from '../console/project-events.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const basicAuth = (user = 'admin', password = ADMIN_TOKEN) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export interface AdminHarness {
  url: string;
  sync: SyncService;
  destinations: DestinationsService;
  migrations: MigrationService;
  producer: JobProducer;
  database: TestDatabase;
  testRedis: TestRedis;
  /** A JSON call to the admin API with the admin token (unless `token` says otherwise). */
  api(
    method: string,
    path: string,
    options?: { body?: unknown; rawBody?: string; token?: string | null; headers?: Record<string, string> },
    // Response bodies are read loosely in tests, as a client would.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<{ status: number; headers: Headers; json: any }>;
  /** `POST /api/projects`, expecting 201. */
  createProject(body: Record<string, unknown>): Promise<ProjectView>;
  close(): Promise<void>;
}

/**
 * The admin app in-process on a port of its own, with a fresh test database, its own Redis prefix and a
 * SyncService pointed at `herokuApiUrl` (heroku-sim in most tests; a closed port by default).
 */
export async function startAdmin(
  options: {
    herokuApiUrl?: string;
    oauth?: HerokuOAuthConfig;
    /** `ADMIN_PUBLIC_URL`, or how to make it from the address the admin listens on (default: that address). */
    publicUrl?: string | ((url: string) => string);
    sync?: Partial<SyncDeps>;
    /** The outbound policy destinations are checked with at creation (default: private targets allowed). */
    destinations?: { allowPrivate?: boolean; allowedHosts?: string[]; lookup?: LookupAll; fileRoot?: string };
    /** Reuse a database and Redis prefix (the browser test shares them with the worker). */
    database?: TestDatabase;
    testRedis?: TestRedis;
  } = {},
): Promise<AdminHarness> {
  const database = options.database ?? (await createTestDatabase());
  const testRedis = options.testRedis ?? (await createTestRedis());
  const redis: Redis = createRedis(testServices.redisUrl, { role: 'producer', name: 'hds-admin-test' });
  const logger = createLogger({ app: 'admin-test', level: 'silent' });
  const sync = new SyncService({
    db: database.client.db,
    keyring: Keyring.fromSpecs(testEncryptionKeys),
    logger,
    heroku: {
      apiUrl: options.herokuApiUrl ?? 'http://127.0.0.1:9',
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      timeoutMs: 2000,
      ...(options.oauth
        ? {
            oauth: {
              oauthUrl: options.oauth.oauthUrl,
              clientId: options.oauth.clientId,
              clientSecret: options.oauth.clientSecret,
            },
          }
        : {}),
    },
    webhooks: { publicBaseUrl: 'http://127.0.0.1:3000', signingKeys: testWebhookSigningKeys },
    ...options.sync,
  });
  const producer = new JobProducer({ connection: redis, prefix: testRedis.prefix });
  const destinationKinds = createDestinationKinds({
    policy: parseOutboundPolicy({
      allowPrivate: options.destinations?.allowPrivate ?? true,
      allowedHosts: options.destinations?.allowedHosts ?? [],
    }),
    ...(options.destinations?.lookup ? { lookup: options.destinations.lookup } : {}),
    ...(options.destinations?.fileRoot ? { fileRoot: options.destinations.fileRoot } : {}),
  });
  const destinations = new DestinationsService({
    db: database.client.db,
    keyring: sync.ctx.keyring,
    kinds: destinationKinds.kinds,
  });
  const projectEvents = listenForProjectChanges({ sql: database.client.sql, logger });
  await projectEvents.ready;
  // The OAuth redirect URI names the admin's port, known only once it listens: listen first, then build the app.
  const holder: { app?: ReturnType<typeof createAdminApp> } = {};
  let server: RunningServer | undefined = await listen(
    (req, res) => {
      if (holder.app) holder.app(req, res);
      else res.writeHead(503).end();
    },
    { port: 0, host: '127.0.0.1' },
  );
  const url = server.url;
  const migrations = new MigrationService({
    sync,
    settings: { checkTarget: targetAddressCheck({ policy: parseOutboundPolicy({ allowPrivate: true }) }) },
    enqueue: (migrationId) => enqueueMigration(producer, migrationId),
  });
  holder.app = createAdminApp({
    sync,
    destinations,
    migrations,
    producer,
    logger,
    registry: createMetricsRegistry('admin'),
    readinessChecks: { redis: () => pingRedis(redis), postgres: () => pingDb(database.client.sql) },
    oauthStates: redisOAuthStateStore({ redis, prefix: testRedis.prefix }),
    projectEvents,
    config: {
      adminToken: ADMIN_TOKEN,
      publicUrl: typeof options.publicUrl === 'function' ? options.publicUrl(url) : (options.publicUrl ?? url),
      oauth: options.oauth,
    },
  });

  const api: AdminHarness['api'] = async (method, path, callOptions = {}) => {
    const headers: Record<string, string> = { accept: 'application/json', ...callOptions.headers };
    const token = callOptions.token === undefined ? ADMIN_TOKEN : callOptions.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (callOptions.rawBody !== undefined) body = callOptions.rawBody;
    else if (callOptions.body !== undefined) body = JSON.stringify(callOptions.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${url}${path}`, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      json = { text };
    }
    return { status: res.status, headers: res.headers, json };
  };

  return {
    url,
    sync,
    destinations,
    migrations,
    producer,
    database,
    testRedis,
    api,
    createProject: async (body) => {
      const res = await api('POST', '/api/projects', { body });
      if (res.status !== 201) throw new Error(`project creation answered ${res.status}: ${JSON.stringify(res.json)}`);
      return res.json as ProjectView;
    },
    close: async () => {
      await projectEvents.close();
      await server?.close(1000);
      server = undefined;
      await producer.close();
      await destinationKinds.close();
      redis.disconnect();
      if (!options.testRedis) await testRedis.cleanup();
      if (!options.database) await database.drop();
    },
  };
}
