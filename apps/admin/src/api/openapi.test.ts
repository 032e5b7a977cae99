// The admin API's OpenAPI document against a real validator and against the API itself: every route of the express
// router is described, every described operation answers with a documented status, and every success answer fits the
// schema the document gives it. A route added without a description (see api-routes.ts) fails here.
import { createHerokuSim, type HerokuSim, type SimServer } from '@hds/heroku-sim';
import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startAdmin, type AdminHarness } from '../test-support/harness.js';
import { fillPath, routesOf } from '../test-support/routes.js';
import { openApiPath, type OpenApiDocument } from './openapi-document.js';
import { createApiRouter } from './router.js';

let sim: HerokuSim;
let simServer: SimServer;
let admin: AdminHarness;
let document: OpenApiDocument;

const SEED_KEY = 'local-heroku-api-key';
const methods = ['get', 'put', 'post', 'delete', 'patch'] as const;

beforeAll(async () => {
  sim = createHerokuSim();
  simServer = await sim.listen();
  admin = await startAdmin({ herokuApiUrl: simServer.url });
  const res = await admin.api('GET', '/api/openapi.json');
  expect(res.status).toBe(200);
  document = res.json as OpenApiDocument;
});
afterAll(async () => {
  await admin?.close();
  await sim?.close();
});

/** `GET /api/projects/{id}` for each operation of the document. */
function describedOperations(doc: OpenApiDocument): { method: string; path: string }[] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    methods.filter((m) => item[m] !== undefined).map((m) => ({ method: m.toUpperCase(), path })),
  );
}

const NEEDS_A_REAL_DATABASE = new Set(['startMigration', 'getMigration', 'cancelMigration']);

describe("the admin API's OpenAPI document", () => {
  it('is valid OpenAPI 3.1 (@readme/openapi-parser: the specification schema, operation ids, parameters)', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(document) as Parameters<typeof validate>[0]);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(result.warnings).toEqual([]);
    // The validator does refuse a broken document: two operations with one id, a path parameter left undescribed.
    const broken = structuredClone(document);
    broken.paths!['/api/projects']!.get!.operationId = 'getProject';
    broken.paths!['/api/projects/{id}/audit']!.get!.parameters = [];
    const refused = await validate(broken as Parameters<typeof validate>[0]);
    expect(refused.valid).toBe(false);
    expect(compileErrors(refused)).toMatch(/getProject/);
  });

  it('describes every route of the API router, and only those', () => {
    const router = createApiRouter({
      sync: admin.sync,
      destinations: admin.destinations,
      migrations: admin.migrations,
      producer: admin.producer,
      reconcileRearmed: async () => {},
      adminToken: 'unused-admin-token',
    });
    const served = routesOf(router, '/api')
      .map((r) => `${r.method} ${openApiPath(r.path)}`)
      .sort();
    const described = describedOperations(document)
      .map((o) => `${o.method} ${o.path}`)
      .sort();
    expect(served.length).toBeGreaterThanOrEqual(12);
    expect(described).toEqual(served);
    // The router keeps its own copy of the document it serves.
    expect(router.document).toEqual(document);
  });

  it('each described operation answers with a documented status; success bodies fit their documented schema', async () => {
    const owner = sim.createAccount({ email: 'developer@example.com', apiKey: SEED_KEY });
    const app = sim.createApp({ name: 'sushi-prod', accountId: owner.id });
    const account = await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: SEED_KEY } });
    const project = await admin.createProject({ name: 'described' });
    const ids: Record<string, string> = {
      id: project.id,
      accountId: account.json.id,
      name: 'LOG_LEVEL',
      migrationId: '00000000-0000-4000-8000-000000000000',
    };
    // A destination with a delivery, and a read token, for the routes that name one.
    const destination = await admin.destinations.create({
      projectId: project.id,
      kind: 'webhook',
      body: { url: 'https://hooks.example.com/described' },
    });
    ids.destinationId = destination.id;
    ids.deliveryId = (await admin.destinations.sendTest(project.id, destination.id)).deliveryId;
    ids.tokenId = (await admin.destinations.createToken(project.id, 'described')).id;

    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    // Writes before reads before deletes, so each call finds what the one before it made.
    const order = ['PUT', 'POST', 'GET', 'PATCH', 'DELETE'];
    const operations = describedOperations(document).sort((a, b) => order.indexOf(a.method) - order.indexOf(b.method));
    const answered: string[] = [];
    for (const { method, path } of operations) {
      const op = document.paths![path]![method.toLowerCase() as (typeof methods)[number]]!;
      const media = (op.requestBody as { content?: Record<string, { example?: unknown }> } | undefined)?.content?.[
        'application/json'
      ];
      // The documented example, with the ids of this test's account and app where it names one.
      const body =
        media?.example === undefined
          ? undefined
          : {
              ...(media.example as object),
              ...('accountId' in (media.example as object) ? { accountId: ids.accountId } : {}),
              ...('app' in (media.example as object) ? { app: app.name } : {}),
            };
      const url = fillPath(path.replace(/\{([^}]+)\}/g, ':$1'), ids, 'missing');
      const res = await admin.api(method, url, body === undefined ? {} : { body });
      const what = `${method} ${path} → ${res.status} ${JSON.stringify(res.json)}`;

      expect(res.json?.error?.message ?? '', what).not.toMatch(/^no route for/);
      expect(Object.keys(op.responses ?? {}), what).toContain(String(res.status));
      // A migration needs a real Heroku database: the sim here has none, so these answer a documented refusal
      // (their successes are checked in packages/migrate-data and e2e/migrations.test.ts).
      if (NEEDS_A_REAL_DATABASE.has(op.operationId ?? '')) {
        expect([404, 422], what).toContain(res.status);
        answered.push(`${method} ${path}`);
        continue;
      }
      expect(res.status, what).toBeLessThan(300);
      const documented = (op.responses![String(res.status)] as { content?: Record<string, { schema: object }> })
        .content?.['application/json']?.schema;
      if (documented) {
        const check = ajv.compile({ ...documented, components: document.components });
        expect(check(res.json), `${what}\n${JSON.stringify(check.errors, null, 2)}`).toBe(true);
      } else {
        expect(res.json, what).toBeUndefined();
      }
      answered.push(`${method} ${path}`);
    }
    expect(answered).toHaveLength(operations.length);
    expect(sim.webhooks({ app: app.name })).toEqual([]); // the DELETE opted out again
  });

  it('is readable in the console: every operation and shape on /api-reference, the same document to download', async () => {
    const headers = { authorization: basicAuth() };
    const page = await fetch(`${admin.url}/api-reference`, { headers });
    expect(page.status).toBe(200);
    const html = await page.text();
    for (const { method, path } of describedOperations(document)) {
      expect(html).toContain(`data-operation="${method} ${path}"`);
    }
    for (const name of Object.keys(document.components?.schemas ?? {})) expect(html).toContain(`id="schema-${name}"`);
    const download = await fetch(`${admin.url}/api-reference/openapi.json`, { headers });
    expect(await download.json()).toEqual(document);
  });

  it('is served only with the bearer token', async () => {
    expect((await admin.api('GET', '/api/openapi.json', { token: null })).status).toBe(401);
  });
});
