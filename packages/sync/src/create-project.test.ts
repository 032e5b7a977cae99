import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { projects } from '@hds/db';
import { createTestDatabase, type TestDatabase } from '@hds/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncError } from './errors.js';
import type { SyncService } from './service.js';
import { seedLink, testService } from './test-support/fixtures.js';

let database: TestDatabase;
let heroku: Server;
let service: SyncService;

beforeAll(async () => {
  database = await createTestDatabase();
  // A Heroku where the account sees no app at all.
  heroku = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'not_found', message: "Couldn't find that app." }));
  });
  await new Promise<void>((resolve) => heroku.listen(0, '127.0.0.1', resolve));
  service = testService(database.client.db, {
    apiUrl: `http://127.0.0.1:${(heroku.address() as AddressInfo).port}`,
  });
});
afterAll(async () => {
  await new Promise((resolve) => heroku.close(resolve));
  await database.drop();
});

describe('createProject with a Heroku app', () => {
  it('refuses an app the account cannot see without creating the project', async () => {
    const { accountId } = await seedLink(service);
    const before = await database.client.db.select().from(projects);
    const attempt = service.createProject({
      name: 'invisible',
      env: { A: 'b' },
      heroku: { accountId, app: 'someone-elses-app' },
    });
    await expect(attempt).rejects.toBeInstanceOf(SyncError);
    await expect(attempt).rejects.toMatchObject({ code: 'app_not_visible' });
    expect(await database.client.db.select().from(projects)).toHaveLength(before.length);
  });
});
