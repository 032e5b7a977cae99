import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDb, herokuAccounts, type DbClient } from '@hds/db';
import { createTestDatabase, type TestDatabase } from '@hds/testkit';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenContext } from './accounts.js';
import { testKeyring, testService } from './test-support/fixtures.js';

/**
 * Heroku's OAuth token endpoint, holding every refresh until the test lets it answer: the test can look at the
 * service while a refresh waits for Heroku.
 */
class HeldTokenEndpoint {
  readonly requests: string[] = [];
  private readonly held: ServerResponse[] = [];
  private arrived: (() => void) | undefined;
  private readonly server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      this.requests.push(body);
      this.held.push(res);
      this.arrived?.();
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once a refresh request is waiting. */
  firstRequest(): Promise<void> {
    if (this.held.length > 0) return Promise.resolve();
    return new Promise((resolve) => (this.arrived = resolve));
  }

  answer(accessToken: string): void {
    for (const res of this.held.splice(0)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: accessToken, refresh_token: 'refresh-2', expires_in: 28_800 }));
    }
  }

  close(): Promise<void> {
    this.answer('late');
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let database: TestDatabase;
let secondClient: DbClient;
let endpoint: HeldTokenEndpoint;
let oauthUrl: string;
beforeAll(async () => {
  // A small pool, as a worker's is small next to its concurrency: a refresh must not hold a connection.
  database = await createTestDatabase({ poolSize: 2 });
  secondClient = createDb({ url: database.url, max: 2 });
  endpoint = new HeldTokenEndpoint();
  oauthUrl = await endpoint.listen();
});
afterAll(async () => {
  await endpoint.close();
  await secondClient.close();
  await database.drop();
});

async function expiredOAuthAccount(): Promise<string> {
  const keyring = testKeyring();
  const id = randomUUID();
  await database.client.db.insert(herokuAccounts).values({
    id,
    herokuUserId: randomUUID(),
    email: 'oauth@example.com',
    authType: 'oauth',
    accessTokenEncrypted: keyring.encrypt('expired-access', tokenContext(id, 'access')),
    refreshTokenEncrypted: keyring.encrypt('refresh-1', tokenContext(id, 'refresh')),
    accessTokenExpiresAt: new Date(Date.now() - 60_000),
  });
  return id;
}

describe('refreshing an OAuth token (issue 17, defect 3)', () => {
  it('holds no connection while Heroku answers, and makes one refresh for many callers in two processes', async () => {
    const oauth = { oauthUrl, clientId: 'client', clientSecret: 'client-secret' };
    // Long enough for a loaded machine: the endpoint answers when the test says so.
    const heroku = { apiUrl: 'http://127.0.0.1:9', oauth, timeoutMs: 60_000 };
    const one = testService(database.client.db, { heroku });
    const two = testService(secondClient.db, { heroku });
    const accountId = await expiredOAuthAccount();

    const refreshes = [
      ...[1, 2, 3].map(() => one.credentials.refresh(accountId, 'expired-access')),
      ...[1, 2, 3].map(() => two.credentials.refresh(accountId, 'expired-access')),
    ];
    await endpoint.firstRequest();
    // Heroku has not answered: both processes' pools still serve other work.
    await database.client.db.execute(sql`select 1`);
    await secondClient.db.execute(sql`select 1`);
    endpoint.answer('fresh-access');

    expect(await Promise.all(refreshes)).toEqual(Array(6).fill('fresh-access'));
    expect(endpoint.requests).toHaveLength(1);
    const [row] = await database.client.db.select().from(herokuAccounts).where(eq(herokuAccounts.id, accountId));
    expect(row).toMatchObject({ tokenGeneration: 2, refreshOwner: null });
    expect(testKeyring().decrypt(row!.accessTokenEncrypted, tokenContext(accountId, 'access'))).toBe('fresh-access');
  });
});
