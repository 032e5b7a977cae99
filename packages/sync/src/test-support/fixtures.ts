import { randomUUID } from 'node:crypto';
import { createLogger, Keyring } from '@hds/core';
import { herokuAccounts, herokuLinks, projects, type Database, type SyncMapping } from '@hds/db';
import { testEncryptionKeys, testWebhookSigningKeys } from '@hds/testkit';
import { SyncService } from '../service.js';
import type { SyncDeps } from '../context.js';
import { DEFAULT_MAPPINGS } from '../mappings.js';

export const testKeyring = () => Keyring.fromSpecs(testEncryptionKeys);
export const silentLogger = () => createLogger({ app: 'test', level: 'silent' });

/** A SyncService on a test database; Heroku defaults to a closed port unless `apiUrl` is given. */
export function testService(db: Database, overrides: Partial<SyncDeps> & { apiUrl?: string } = {}): SyncService {
  const { apiUrl, ...rest } = overrides;
  return new SyncService({
    db,
    keyring: testKeyring(),
    logger: silentLogger(),
    heroku: {
      apiUrl: apiUrl ?? 'http://127.0.0.1:9',
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      timeoutMs: 2000,
    },
    webhooks: { publicBaseUrl: 'http://127.0.0.1:3000', signingKeys: testWebhookSigningKeys },
    options: { rateLimitBackoffMs: 200, leaseMs: 10_000, reconcileMinIntervalMs: 1000 },
    ...rest,
  });
}

/** Inserts a project, an API-key account (token sealed with the service's keyring) and an enabled link. */
export async function seedLink(
  service: SyncService,
  options: {
    appId?: string;
    appName?: string;
    appliedVersion?: number;
    mappings?: SyncMapping[];
    apiKey?: string;
  } = {},
) {
  const db = service.ctx.db;
  const [project] = await db
    .insert(projects)
    .values({ name: `p-${randomUUID().slice(0, 8)}` })
    .returning();
  const accountId = randomUUID();
  await db.insert(herokuAccounts).values({
    id: accountId,
    herokuUserId: randomUUID(),
    email: 'owner@example.com',
    authType: 'api_key',
    accessTokenEncrypted: service.ctx.keyring.encrypt(options.apiKey ?? 'test-api-key', `account:${accountId}:access`),
  });
  const [link] = await db
    .insert(herokuLinks)
    .values({
      projectId: project!.id,
      accountId,
      appId: options.appId ?? randomUUID(),
      appName: options.appName ?? 'test-app',
      mappings: options.mappings ?? [...DEFAULT_MAPPINGS],
      appliedVersion: options.appliedVersion ?? 0,
    })
    .returning();
  return { projectId: project!.id, accountId, link: link! };
}
