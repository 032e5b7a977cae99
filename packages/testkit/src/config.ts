import { createHash, randomBytes } from 'node:crypto';

/**
 * Where tests find their services. Tests never use the service's own database: each test file gets a
 * fresh database cloned from a migrated template, and its own Redis key prefix.
 */
export const testServices = {
  /** A maintenance connection used to create and drop test databases. */
  pgAdminUrl: process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(testServices.pgAdminUrl);
  url.pathname = `/${name}`;
  return url.href;
}

/** Fixed test keys (never used outside tests): two, so rotation can be exercised. */
export const testEncryptionKeys = [
  `test1:${Buffer.alloc(32, 1).toString('base64')}`,
  `test0:${Buffer.alloc(32, 7).toString('base64')}`,
];
/**
 * A fixed secret as strong as the apps require of `WEBHOOK_SIGNING_KEYS` and `ADMIN_TOKEN` (43 base64url characters),
 * derived from `name` so it reads as what it is: public, for tests and benchmarks only.
 */
export const testSecret = (name: string) =>
  createHash('sha256').update(`heroku-db-sync test secret: ${name}`).digest('base64url');
export const testWebhookSigningKeys = [testSecret('signing key 1'), testSecret('signing key 0')];
