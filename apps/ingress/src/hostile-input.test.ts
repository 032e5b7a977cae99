// A corpus of hostile requests to the ingress: each gets a 4xx (never a 5xx) and changes nothing in Redis.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { SIGNATURE_HEADER, signWebhookBody } from '@hds/heroku';
import {
  createTestRedis,
  deepArrays,
  deepObjects,
  dumpRedisKeys,
  hostileIds,
  hostilePathSegments,
  jsonOfEveryType,
  sendHttp,
  sendRawBytes,
  sqlLookingValues,
  testServices,
  testWebhookSigningKeys,
  type RawAnswer,
  type RedisEntry,
  type TestRedis,
} from '@hds/testkit';
import type { Queue } from 'bullmq';
import type { OutgoingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { herokuBody, signFor } from './test-support/deliveries.js';
import { countJobs, eventsQueue, startTestIngress, type TestIngress } from './test-support/ingress-harness.js';

const [currentKey] = testWebhookSigningKeys as [string];
const LINK = randomUUID();
const KiB = 1024;

let testRedis: TestRedis;
let ingress: TestIngress;
let jobs: Queue;
let before: Record<string, RedisEntry>;

beforeAll(async () => {
  testRedis = await createTestRedis();
  ingress = await startTestIngress({ redisUrl: testServices.redisUrl, prefix: testRedis.prefix });
  jobs = eventsQueue(testRedis.redis, testRedis.prefix);
  // One accepted delivery first, so the queue's keys exist and "nothing changed" is checked against real state.
  const warmup = await deliver({ body: release() });
  expect(warmup.status).toBe(202);
  before = await dumpRedisKeys(testRedis.redis, testRedis.prefix);
  expect(Object.keys(before).length).toBeGreaterThan(0);
});

afterAll(async () => {
  await ingress?.close();
  await jobs?.close();
  await testRedis?.cleanup();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- fixtures are edited freely

/** A fresh, valid release body (new event id and version) as an object, to break. */
function releaseJson(): Json {
  const body = JSON.parse(herokuBody('api-release-update-2025.json').toString('utf8')) as Json;
  body.id = randomUUID();
  body.webhook_metadata.event.id = body.id;
  body.data.version = 1000 + Math.floor(Math.random() * 1_000_000);
  return body;
}
const release = () => Buffer.from(JSON.stringify(releaseJson()));

/** POSTs `body` to a link, signed for it (unless `signature` says otherwise), through node:http as written. */
function deliver(options: {
  body: Buffer | string;
  linkPath?: string;
  signFor?: string;
  signature?: string | string[] | null;
  headers?: OutgoingHttpHeaders;
  method?: string;
  chunked?: boolean;
}): Promise<RawAnswer> {
  const body = Buffer.from(options.body);
  const linkId = options.signFor ?? LINK;
  const signature =
    options.signature === undefined ? signFor({ body, linkId, signingKey: currentKey }) : options.signature;
  const headers: OutgoingHttpHeaders = { 'content-type': 'application/json', ...options.headers };
  if (signature !== null) headers[SIGNATURE_HEADER] = signature;
  return sendHttp({
    url: ingress.url,
    method: options.method ?? 'POST',
    path: `/webhooks/heroku/${options.linkPath ?? LINK}`,
    headers,
    body,
    ...(options.chunked ? { chunked: true } : {}),
  });
}

/** Sets a field at `path` (creating nothing: the parent must exist). */
function withField(path: readonly string[], value: unknown): Buffer {
  const body = releaseJson();
  let parent = body;
  for (const key of path.slice(0, -1)) parent = parent[key] as Json;
  parent[path.at(-1)!] = value;
  return Buffer.from(JSON.stringify(body));
}

interface Hostile {
  name: string;
  send: () => Promise<RawAnswer>;
  /** The exact status expected, when the contract names one; otherwise any 4xx. */
  status?: number;
  /** The error code expected in the JSON answer. */
  code?: string;
}

const corpus: Hostile[] = [];
const add = (group: string, cases: Hostile[]) =>
  corpus.push(...cases.map((c) => ({ ...c, name: `${group}: ${c.name}` })));

add('body size', [
  { name: 'signed, 257 KiB', send: () => deliver({ body: padded(257 * KiB) }), status: 413, code: 'payload_too_large' },
  // The signature header is checked before the body is read: an unsigned body is refused whatever its size.
  {
    name: 'unsigned, 4 MiB',
    send: () => deliver({ body: padded(4096 * KiB), signature: null }),
    status: 401,
    code: 'missing_signature',
  },
  { name: 'signed, 4 MiB', send: () => deliver({ body: padded(4096 * KiB) }), status: 413 },
  {
    name: 'signed, 4 MiB chunked without a length',
    send: () => deliver({ body: padded(4096 * KiB), chunked: true }),
    status: 413,
  },
  { name: 'signed, empty', send: () => deliver({ body: '' }), status: 400, code: 'invalid_json' },
  { name: 'unsigned, empty', send: () => deliver({ body: '', signature: null }), status: 401 },
]);

add('truncated body', [
  {
    name: 'cut in half after signing',
    send: () => {
      const body = release();
      const signature = signFor({ body, linkId: LINK, signingKey: currentKey });
      return deliver({ body: body.subarray(0, body.length >> 1), signature });
    },
    status: 401,
    code: 'bad_signature',
  },
  {
    name: 'cut in half, then signed',
    send: () => deliver({ body: release().subarray(0, 200) }),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'shorter than its Content-Length, connection half-closed',
    send: async () => {
      const body = release();
      const head = [
        `POST /webhooks/heroku/${LINK} HTTP/1.1`,
        'Host: 127.0.0.1',
        'Content-Type: application/json',
        `${SIGNATURE_HEADER}: ${signFor({ body, linkId: LINK, signingKey: currentKey })}`,
        `Content-Length: ${body.length}`,
        'Connection: close',
      ].join('\r\n');
      const answer = await sendRawBytes({
        url: ingress.url,
        bytes: Buffer.concat([Buffer.from(`${head}\r\n\r\n`), body.subarray(0, body.length >> 1)]),
        halfClose: true,
      });
      // The server may answer 400 or just close: both refuse it. A 5xx or a 2xx would fail the case.
      return answer.status === undefined ? { ...answer, status: 400 } : answer;
    },
  },
  {
    name: 'both Content-Length and Transfer-Encoding',
    send: () =>
      sendRawBytes({
        url: ingress.url,
        bytes: `POST /webhooks/heroku/${LINK} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
      }),
    status: 400,
  },
  {
    name: 'a Content-Length that is not a number',
    send: () =>
      sendRawBytes({
        url: ingress.url,
        bytes: `POST /webhooks/heroku/${LINK} HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\nConnection: close\r\n\r\n{}`,
      }),
    status: 400,
  },
]);

add('deep JSON', [
  { name: '10,000 nested arrays', send: () => deliver({ body: deepArrays(10_000) }), code: 'not_a_heroku_event' },
  { name: '100,000 nested arrays', send: () => deliver({ body: deepArrays(100_000) }), code: 'not_a_heroku_event' },
  { name: '10,000 nested objects', send: () => deliver({ body: deepObjects(10_000) }), code: 'not_a_heroku_event' },
  {
    name: '10,000 nested arrays as the app',
    send: () => deliver({ body: withFieldText(['data', 'app'], deepArrays(10_000)) }),
    code: 'not_a_heroku_event',
  },
  {
    name: '10,000 nested objects as the version',
    send: () => deliver({ body: withFieldText(['data', 'version'], deepObjects(10_000)) }),
    code: 'not_a_heroku_event',
  },
]);

add('not an event', [
  ...['null', '"release"', '123', '[]', 'true', '{}', '\ufeff{}', '{"id": 1,}', 'NaN', '{"a": "\\ud800"}'].map(
    (text): Hostile => ({ name: text, send: () => deliver({ body: text }), status: 400 }),
  ),
  {
    name: 'a release with a duplicate id key, the last one invalid',
    send: () =>
      deliver({
        body: release().toString('utf8').replace(/^\{/, '{"id": "not-a-uuid", ').replace(/\}$/, ', "id": "x"}'),
      }),
    code: 'not_a_heroku_event',
  },
]);

/** Sets a field to raw JSON text (for values JSON.stringify cannot make: deep nesting, 1e400). */
function withFieldText(path: readonly string[], text: string): string {
  const marker = `__hostile_${randomUUID()}__`;
  return withField(path, marker).toString('utf8').replace(`"${marker}"`, text);
}

const wrongTypes: Array<{ path: string[]; values: unknown[] }> = [
  { path: ['id'], values: [...jsonOfEveryType, 'not-a-uuid'] },
  { path: ['action'], values: [null, true, 0, [], {}, '', 'x'.repeat(65)] },
  { path: ['resource'], values: [null, true, 0, [], {}, ''] },
  { path: ['data'], values: [null, true, 0, 'text', [], [1]] },
  { path: ['data', 'version'], values: [null, true, 0, -1, 1.5, '7', [], {}, 2 ** 31, 1e300] },
  { path: ['data', 'status'], values: [null, true, 0, [], {}, 'x'.repeat(33)] },
  { path: ['data', 'app'], values: [null, true, 0, 'text', [], [1]] },
  { path: ['data', 'app', 'id'], values: [null, true, 0, 'text', [], {}] },
  { path: ['data', 'app', 'name'], values: [null, true, 0, [], {}] },
  { path: ['data', 'id'], values: [null, true, 0, 'text', [], {}] },
  { path: ['data', 'current'], values: ['yes', 0, [], {}] },
  { path: ['data', 'description'], values: [true, 0, [], {}] },
  { path: ['actor'], values: [true, 0, 'text', [], [1]] },
  { path: ['actor', 'email'], values: [true, 0, [], {}] },
  { path: ['webhook_metadata'], values: [null, true, 0, 'text', []] },
  { path: ['webhook_metadata', 'event', 'id'], values: [null, 0, [], {}] },
  { path: ['webhook_metadata', 'delivery'], values: [null, 'text', []] },
];
add(
  'wrong type',
  wrongTypes.flatMap(({ path, values }) =>
    values.map((value): Hostile => ({
      name: `${path.join('.')} = ${JSON.stringify(value).slice(0, 20)}`,
      send: () => deliver({ body: withField(path, value) }),
      status: 400,
      code: 'not_a_heroku_event',
    })),
  ),
);
add('number edge', [
  ...['1e400', '-0', '0x7', '1e-400', '07', '+7'].map((text): Hostile => ({
    name: `data.version = ${text}`,
    send: () => deliver({ body: withFieldText(['data', 'version'], text) }),
    status: 400,
  })),
]);

add('SQL-looking values', [
  ...sqlLookingValues.flatMap((value) =>
    [['id'], ['data', 'app', 'id'], ['data', 'id'], ['data', 'version'], ['data', 'status']].map((path): Hostile => ({
      name: `${path.join('.')} = ${value}`,
      send: () => deliver({ body: withField(path, value) }),
      status: 400,
      code: 'not_a_heroku_event',
    })),
  ),
  ...['succeeded:now', 'a:b:c', 'Succeeded', 'succeeded ', 'pending\n'].map((status): Hostile => ({
    name: `data.status = ${JSON.stringify(status)} (not a status word; ':' would break the job id)`,
    send: () => deliver({ body: withField(['data', 'status'], status) }),
    status: 400,
    code: 'not_a_heroku_event',
  })),
]);

add('prototype keys', [
  {
    name: 'version only under data.__proto__',
    send: () => {
      const body = releaseJson();
      delete body.data.version;
      const text = JSON.stringify(body).replace('"data":{', '"data":{"__proto__":{"version":7},');
      expect(text).toContain('"__proto__":{"version":7}');
      return deliver({ body: text });
    },
    status: 400,
  },
  {
    name: 'a whole release under __proto__',
    send: () => deliver({ body: `{"__proto__": ${JSON.stringify(releaseJson())}}` }),
    status: 400,
  },
  {
    name: 'app id only under constructor.prototype',
    send: () => {
      const body = releaseJson();
      delete body.data.app.id;
      body.data.app.constructor = { prototype: { id: randomUUID() } };
      return deliver({ body: JSON.stringify(body) });
    },
    status: 400,
  },
]);

add('link id', [
  ...hostileIds.map(({ name, value }): Hostile => ({
    // Signed correctly for that id: the id itself is what is refused.
    name,
    send: () => deliver({ body: release(), linkPath: encodeURIComponent(value), signFor: value }),
    status: 400,
    code: 'invalid_link_id',
  })),
  ...hostilePathSegments.map((segment): Hostile => ({
    name: `raw segment ${segment.slice(0, 40)}`,
    send: () => deliver({ body: release(), linkPath: segment }),
  })),
  {
    name: 'traversal to another route',
    send: () => deliver({ body: release(), linkPath: `${LINK}/../../../healthz` }),
  },
  { name: '100,000 characters', send: () => deliver({ body: release(), linkPath: 'a'.repeat(100_000) }), status: 431 },
  {
    name: 'raw UTF-8 bytes in the request line',
    send: () =>
      sendRawBytes({
        url: ingress.url,
        bytes: Buffer.concat([
          Buffer.from('POST /webhooks/heroku/'),
          Buffer.from(`\u202e${LINK}`, 'utf8'),
          Buffer.from(' HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'),
        ]),
      }),
  },
]);

const validSignature = (body: Buffer, linkId = LINK) => signFor({ body, linkId, signingKey: currentKey });
const withBody = (make: (body: Buffer) => Omit<Parameters<typeof deliver>[0], 'body'>) => () => {
  const body = release();
  return deliver({ body, ...make(body) });
};
add('signature', [
  { name: 'missing', send: withBody(() => ({ signature: null })), status: 401, code: 'missing_signature' },
  { name: 'empty', send: withBody(() => ({ signature: '' })), status: 401, code: 'missing_signature' },
  { name: 'blank', send: withBody(() => ({ signature: ' ' })), status: 401 },
  {
    name: 'forged (well-formed, random)',
    send: withBody(() => ({ signature: Buffer.from(randomUUID().repeat(2)).subarray(0, 32).toString('base64') })),
    status: 401,
    code: 'bad_signature',
  },
  {
    name: 'the valid one, sent twice',
    send: withBody((body) => ({ signature: [validSignature(body), validSignature(body)] })),
    status: 401,
    code: 'malformed_signature',
  },
  {
    name: 'a forged one and the valid one',
    send: withBody((body) => ({ signature: ['AAAA', validSignature(body)] })),
    status: 401,
  },
  {
    name: 'hex instead of base64',
    send: withBody((body) => ({ signature: Buffer.from(validSignature(body), 'base64').toString('hex') })),
    status: 401,
    code: 'malformed_signature',
  },
  {
    name: 'base64url instead of base64',
    send: withBody((body) => ({
      signature: Buffer.from(validSignature(body), 'base64').toString('base64url'),
    })),
    status: 401,
  },
  {
    name: 'prefixed sha256=',
    send: withBody((body) => ({ signature: `sha256=${validSignature(body)}` })),
    status: 401,
    code: 'malformed_signature',
  },
  {
    name: "another link's",
    send: withBody((body) => ({ signature: validSignature(body, randomUUID()) })),
    status: 401,
    code: 'bad_signature',
  },
  {
    name: 'made with the signing key itself instead of the derived secret',
    send: withBody((body) => ({ signature: signWebhookBody(currentKey, body) })),
    status: 401,
    code: 'bad_signature',
  },
  {
    name: 'under a header of another name',
    send: withBody((body) => ({
      signature: null,
      headers: { 'heroku-webhook-hmac-sha1': validSignature(body), authorization: validSignature(body) },
    })),
    status: 401,
    code: 'missing_signature',
  },
]);

add('content type and encoding', [
  {
    name: 'gzip-encoded, signed',
    send: () => {
      const body = gzipSync(release());
      return deliver({ body, headers: { 'content-encoding': 'gzip' } });
    },
    status: 415,
  },
  {
    name: 'deflate-encoded',
    send: () => deliver({ body: release(), headers: { 'content-encoding': 'deflate' } }),
    status: 415,
  },
  {
    name: 'UTF-16, signed',
    send: () =>
      deliver({
        body: Buffer.from(release().toString('utf8'), 'utf16le'),
        headers: { 'content-type': 'application/json; charset=utf-16le' },
      }),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'a form, signed',
    send: () =>
      deliver({
        body: `id=${randomUUID()}&resource=release&action=update&data[version]=7`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'multipart, signed',
    send: () =>
      deliver({
        body: `--x\r\nContent-Disposition: form-data; name="body"\r\n\r\n${release().toString()}\r\n--x--\r\n`,
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
      }),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'text/plain, unsigned',
    send: () => deliver({ body: release(), signature: null, headers: { 'content-type': 'text/plain' } }),
    status: 401,
  },
]);

add('method', [
  ...['GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'TRACE'].map((method): Hostile => ({
    name: method,
    send: () => deliver({ body: release(), method }),
    status: 404,
  })),
  {
    name: 'an unknown method',
    send: () =>
      sendRawBytes({
        url: ingress.url,
        bytes: `FOO /webhooks/heroku/${LINK} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      }),
    status: 400,
  },
]);

/** A valid JSON body of `size` bytes. */
function padded(size: number): Buffer {
  const head = '{"pad":"';
  const tail = '"}';
  return Buffer.from(head + 'x'.repeat(size - head.length - tail.length) + tail);
}

describe('hostile requests to POST /webhooks/heroku/:linkId', () => {
  it('has a corpus of every kind', () => {
    expect(corpus.length).toBeGreaterThan(150);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
  });

  for (const hostile of corpus) {
    it(`${hostile.name} → ${hostile.status ?? '4xx'}${hostile.code ? ` ${hostile.code}` : ''}, no job`, async () => {
      const jobsBefore = await countJobs(jobs);
      const answer = await hostile.send();
      expect(answer.status, answer.text.slice(0, 300)).toBeGreaterThanOrEqual(400);
      expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
      if (hostile.status !== undefined) expect(answer.status).toBe(hostile.status);
      if (hostile.code !== undefined) expect(JSON.parse(answer.text)).toMatchObject({ error: { code: hostile.code } });
      expect(await countJobs(jobs)).toBe(jobsBefore);
    });
  }

  it('left every key under the queue prefix as it was', async () => {
    expect(await dumpRedisKeys(testRedis.redis, testRedis.prefix)).toEqual(before);
  });

  it('polluted no prototype of the process it runs in', () => {
    expect(({} as Record<string, unknown>).version).toBeUndefined();
    expect(({} as Record<string, unknown>).id).toBeUndefined();
  });

  it('logged no error, and no request it could not classify', () => {
    const lines = ingress.logLines.map((l) => JSON.parse(l) as { level: number; outcome?: string; msg: string });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.filter((l) => l.outcome === 'error')).toEqual([]);
  });

  it('still accepts a proper delivery afterwards, and the snapshot sees it', async () => {
    const jobsBefore = await countJobs(jobs);
    expect((await deliver({ body: release() })).status).toBe(202);
    expect(await countJobs(jobs)).toBe(jobsBefore + 1);
    expect(await dumpRedisKeys(testRedis.redis, testRedis.prefix)).not.toEqual(before);
  });
});
