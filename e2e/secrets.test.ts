// A full rotation with known passwords, then a search of everything the system wrote — every log line of every
// process, every Redis key under the stack's prefix, every row of every table but the encrypted env values, the
// admin API's masked answers, the console and Bull Board — for the passwords, the Heroku API key, a hasura
// destination's admin secret and the database URL its Hasura (the stand-in) holds, which reaches the worker in each
// metadata export. Found nowhere; and found where they must be (decrypting the env var gives the newest URL, the
// destination's secrets the admin secret), so the search can fail.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Keyring } from '@hds/core';
import {
  dumpRedisKeys,
  dumpTables,
  startHasuraStandIn,
  testEncryptionKeys,
  testServices,
  type HasuraStandIn,
  type Stack,
  hasuraMetadata,
  postgresSource,
} from '@hds/testkit';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { describe, expect, it, onTestFinished } from 'vitest';
import { appName, eventually, useStack } from './support/use-stack.js';

const debug = { LOG_LEVEL: 'debug' };
// The Hasura stand-in listens on 127.0.0.1.
const privateTargets = { DESTINATIONS_ALLOW_PRIVATE: 'true' };
// No scheduled reconcile: the releases come through webhooks and the admin's enable, as in production.
const stack = useStack({
  workerEnv: { RECONCILE_TICK_MS: '3600000', ...privateTargets },
  env: { ingress: debug, worker: debug, admin: { ...debug, ...privateTargets }, 'heroku-sim': debug },
});

const HASURA = 'HASURA_GRAPHQL_DATABASE_URL';

/** A password no other test uses; `special` adds characters a URL must percent-encode. */
const password = (special = false) =>
  `${special ? 'Kn0wn/Pa$$:w0rd@~!-' : 'known-pw-'}${randomBytes(12).toString('hex')}`;
const urlWith = (pw: string) =>
  `postgres://u${randomBytes(3).toString('hex')}:${encodeURIComponent(pw)}@db.internal:5432/main`;

/** Every form a secret could be written in. */
function forms(secret: string): string[] {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const b64url = (s: string) => Buffer.from(s).toString('base64url');
  return [
    ...new Set([secret, encodeURIComponent(secret), b64(secret), b64url(secret), JSON.stringify(secret).slice(1, -1)]),
  ];
}

interface Secret {
  label: string;
  needles: string[];
}

/** Where each needle occurs in `text` (one finding per secret and place). */
function search(secrets: readonly Secret[], place: string, text: string): string[] {
  return secrets.flatMap((s) => (s.needles.some((n) => text.includes(n)) ? [`${s.label} in ${place}`] : []));
}

async function setDatabaseUrl(s: Stack, app: string, url: string): Promise<number> {
  const answer = await s.sim.http.expect<{ version: number }>('POST', `/_sim/apps/${app}/config-vars`, {
    status: 200,
    body: { vars: { DATABASE_URL: url } },
  });
  return answer.version;
}

async function waitForValue(s: Stack, projectId: string, url: string): Promise<void> {
  await eventually(`${HASURA} to be the new URL`, async () => (await s.admin.envValue(projectId)) === url);
}

describe('secrets are written nowhere but the encrypted env values', () => {
  it('enable, rotate to known passwords, opt out, re-enable: then every log, key and row is searched', async () => {
    const s = stack();
    const simAccount = await s.sim.createAccount({ email: 'secrets@example.com' });
    const account = await s.admin.addAccount(simAccount.apiKey);
    const app = await s.sim.createApp({ name: appName('secrets'), accountId: simAccount.id });
    const project = await s.admin.createProject({ name: 'secrets' });
    // A hasura destination: its admin secret is stored encrypted, and the source URL in its Hasura's metadata
    // (exported by the worker at each attempt) is a secret too. The host does not resolve: every attempt ends after
    // the export, with Hasura unable to connect to the new URL.
    const adminSecret = `hasura-admin-${randomBytes(12).toString('hex')}`;
    const hasuraPassword = password(true);
    const hasura: HasuraStandIn = await startHasuraStandIn({
      adminSecret,
      connectTimeoutSeconds: 1,
      metadata: hasuraMetadata(postgresSource({ databaseUrl: urlWith(hasuraPassword) })),
    });
    onTestFinished(() => hasura.close());
    const destination = await s.admin.http.request<{ id: string }>('POST', `/api/projects/${project.id}/destinations`, {
      kind: 'hasura',
      url: hasura.url,
      adminSecret,
      vars: [HASURA],
    });
    expect(destination.status).toBe(201);

    // Before enabling: the admin applies it at enable.
    const urls: string[] = [app.databaseUrl];
    const passwords: string[] = [decodeURIComponent(new URL(app.databaseUrl).password)];
    const known = async (special: boolean) => {
      const pw = password(special);
      const url = urlWith(pw);
      passwords.push(pw);
      urls.push(url);
      return { url, version: await setDatabaseUrl(s, app.name, url) };
    };
    const first = await known(false);
    const enabled = await s.admin.enableSync(project.id, { accountId: account.id, app: app.name });
    expect(enabled).toMatchObject({ state: 'active', lastReleaseVersion: first.version });
    expect(await s.admin.envValue(project.id)).toBe(first.url);

    // A rotation through the webhook: sim → ingress → queue → worker.
    const second = await known(true);
    await waitForValue(s, project.id, second.url);
    // And one by Heroku Postgres itself (a password the sim picks, known from its answer).
    const rotated = await s.sim.rotateCredentials(app.name);
    urls.push(rotated.databaseUrl);
    passwords.push(decodeURIComponent(new URL(rotated.databaseUrl).password));
    await waitForValue(s, project.id, rotated.databaseUrl);

    // Opt out; a rotation meanwhile; re-enable catches up with it.
    await s.admin.disableSync(project.id);
    const third = await known(false);
    expect(await s.sim.settled()).toBe(true);
    expect(await s.admin.envValue(project.id)).toBe(rotated.databaseUrl);
    const again = await s.admin.enableSync(project.id, { accountId: account.id, app: app.name });
    expect(again).toMatchObject({ state: 'active', lastReleaseVersion: third.version });
    const fourth = await known(true);
    await waitForValue(s, project.id, fourth.url);
    expect(await s.sim.settled()).toBe(true);
    expect(await s.admin.syncStatus(project.id)).toMatchObject({ state: 'active', lastReleaseVersion: fourth.version });
    // The worker read the stand-in's metadata (the source URL in clear) and tried to write a new URL into it.
    await eventually('the worker to export the Hasura metadata and update its source', async () => {
      const calls = hasura.calls();
      return (
        calls.some((c) => c.type === 'export_metadata' && c.status === 200) &&
        calls.some((c) => c.type === 'pg_update_source')
      );
    });

    const secrets: Secret[] = [
      ...passwords.map((pw, i) => ({ label: `password ${i}`, needles: forms(pw) })),
      ...urls.map((url, i) => ({ label: `URL ${i}`, needles: forms(url) })),
      { label: 'the Heroku API key', needles: forms(simAccount.apiKey) },
      { label: 'the Hasura admin secret', needles: forms(adminSecret) },
      { label: 'the password in the Hasura metadata', needles: forms(hasuraPassword) },
    ];
    expect(passwords).toHaveLength(6);
    expect(new Set(passwords).size).toBe(6);
    const found: string[] = [];

    // The admin API's masked answers, the console's pages and Bull Board.
    const masked = await s.admin.env(project.id);
    // Redacted by allow-list: scheme, host, port and database name; the user and the password are masked.
    expect(masked.find((v) => v.name === HASURA)?.value).toBe('postgres://****:****@db.internal:5432/main');
    const apiAnswers = {
      env: masked,
      audit: await s.admin.audit(project.id),
      sync: await s.admin.syncStatus(project.id),
      project: await s.admin.getProject(project.id),
      projects: (await s.admin.http.request('GET', '/api/projects')).body,
      accounts: await s.admin.listAccounts(),
      destinations: (await s.admin.http.request('GET', `/api/projects/${project.id}/destinations`)).body,
      deliveries: (
        await s.admin.http.request('GET', `/api/projects/${project.id}/destinations/${destination.body.id}/deliveries`)
      ).body,
    };
    for (const [name, answer] of Object.entries(apiAnswers))
      found.push(...search(secrets, `GET api ${name}`, JSON.stringify(answer)));
    const basic = `Basic ${Buffer.from(`admin:${s.adminToken}`).toString('base64')}`;
    for (const path of [
      '/',
      `/projects/${project.id}`,
      '/admin/queues/api/queues?activeQueue=heroku-events&status=completed',
    ]) {
      const page = await fetch(`${s.adminUrl}${path}`, { headers: { authorization: basic } });
      expect(page.status).toBe(200);
      const text = await page.text();
      if (path.startsWith('/projects/')) expect(text).toContain(':****@db.internal');
      found.push(...search(secrets, `GET ${path}`, text));
    }

    // Every key under the stack's prefix, whatever its type: job data, return values, failed reasons, events.
    const redis = new Redis(testServices.redisUrl, { lazyConnect: true });
    await redis.connect();
    let keys: Record<string, unknown>;
    try {
      keys = await dumpRedisKeys(redis, s.redisPrefix);
    } finally {
      redis.disconnect();
    }
    expect(Object.keys(keys).some((k) => k.includes(':heroku-events:'))).toBe(true);
    for (const [key, entry] of Object.entries(keys))
      found.push(...search(secrets, `redis ${key}`, `${key} ${JSON.stringify(entry)}`));

    // Every row of every table but the encrypted env values, which must hold the newest URL.
    const sql = postgres(s.database.url, { max: 1, onnotice: () => {} });
    try {
      const tables = await dumpTables(sql, { exclude: [{ table: 'project_env_vars', column: 'value_encrypted' }] });
      expect(Object.keys(tables)).toEqual(
        expect.arrayContaining(['public.audit_log', 'public.heroku_links', 'public.webhook_events']),
      );
      expect(tables['public.audit_log']!.length).toBeGreaterThan(5);
      for (const [table, rows] of Object.entries(tables)) {
        rows.forEach((row, i) => found.push(...search(secrets, `${table} row ${i}`, JSON.stringify(row))));
      }
      const [stored] = await sql<{ value_encrypted: string }[]>`
        select value_encrypted from project_env_vars where project_id = ${project.id} and name = ${HASURA}`;
      expect(stored!.value_encrypted).not.toContain(passwords.at(-1)!);
      // The ciphertext is bound to its row (`env:<project>:<name>`, packages/sync env-vars.ts).
      const keyring = Keyring.fromSpecs(testEncryptionKeys);
      expect(keyring.decrypt(stored!.value_encrypted, `env:${project.id}:${HASURA}`)).toBe(fourth.url);
      // The admin secret is at rest only encrypted, bound to its destination (`destination:<id>`, packages/destinations
      // secrets-context.ts); the search above went through this row (the whole row, secrets_encrypted included).
      const [row] = await sql<{ kind: string; secrets_encrypted: string }[]>`
        select kind, secrets_encrypted from destinations where id = ${destination.body.id}`;
      expect(row!.kind).toBe('hasura');
      expect(JSON.stringify(tables['public.destinations'])).toContain(row!.secrets_encrypted);
      expect(row!.secrets_encrypted).not.toContain(adminSecret);
      expect(JSON.parse(keyring.decrypt(row!.secrets_encrypted, `destination:${destination.body.id}`))).toEqual({
        adminSecret,
      });
    } finally {
      await sql.end();
    }

    // Every line every process logged, shutdown included: stop them first, keeping the files.
    const logDir = s.logDir;
    await s.close({ keepLogs: true });
    try {
      const files = readdirSync(logDir).filter((f) => f.endsWith('.log'));
      expect(files.sort()).toEqual(['admin.log', 'heroku-sim.log', 'ingress.log', 'worker-1.log']);
      let debugLines = 0;
      for (const file of files) {
        const lines = readFileSync(join(logDir, file), 'utf8').split('\n');
        debugLines += lines.filter((l) => l.includes('"level":20')).length;
        lines.forEach((line, i) => found.push(...search(secrets, `${file}:${i + 1}`, line)));
      }
      expect(debugLines).toBeGreaterThan(0);
      // The search finds what is there: the admin's revealed answer holds the URL in clear.
      expect(search(secrets, 'a revealed value', JSON.stringify({ value: fourth.url }))).toEqual([
        'password 5 in a revealed value',
        'URL 5 in a revealed value',
      ]);
      expect(search(secrets, 'an export', JSON.stringify(hasura.metadata()))).toEqual([
        'the password in the Hasura metadata in an export',
      ]);
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
    expect(found).toEqual([]);
  });
});
