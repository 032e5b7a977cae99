import { randomUUID } from 'node:crypto';
import { SIGNATURE_HEADER } from '@hds/heroku';
import { jobCatalog, parseJobData, releaseEventJobId } from '@hds/queue';
import {
  createTestRedis,
  sharedWebhookBodies,
  testServices,
  testWebhookSigningKeys,
  type TestRedis,
} from '@hds/testkit';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshReleaseBody, herokuBody, postWebhook, signFor, bodyAppId } from './test-support/deliveries.js';
import { countJobs, eventsQueue, startTestIngress, type TestIngress } from './test-support/ingress-harness.js';

const [currentKey, olderKey] = testWebhookSigningKeys as [string, string];
const RECEIVED_AT = 1_750_000_000_000;

let testRedis: TestRedis;
let ingress: TestIngress;
let jobs: Queue;

beforeAll(async () => {
  testRedis = await createTestRedis();
  ingress = await startTestIngress({
    redisUrl: testServices.redisUrl,
    prefix: testRedis.prefix,
    now: () => RECEIVED_AT,
  });
  jobs = eventsQueue(testRedis.redis, testRedis.prefix);
});

afterAll(async () => {
  await ingress?.close();
  await jobs?.close();
  await testRedis?.cleanup();
});

/** Signs `body` for `linkId` with the current key and posts it. */
function deliver(body: Buffer, linkId: string, signingKey = currentKey) {
  return postWebhook({ baseUrl: ingress.url, linkId, body, signature: signFor({ body, linkId, signingKey }) });
}

describe('POST /webhooks/heroku/:linkId with real Heroku bodies', () => {
  const releases = [...sharedWebhookBodies()].filter(([name]) => name.startsWith('api-release'));

  it('has the four release bodies to test with', () => {
    expect(releases).toHaveLength(4);
  });

  for (const [name, body] of releases) {
    it(`stores ${name} as exactly one job, its id the event id and the link, holding ids and status only`, async () => {
      const before = await countJobs(jobs);
      const linkId = randomUUID();
      const answer = await deliver(body, linkId);
      expect(answer).toMatchObject({ status: 202, json: { status: 'accepted' } });

      const original = JSON.parse(body.toString('utf8')) as {
        id: string;
        action: string;
        data: { version: number; status: string; app: { id: string } };
      };
      expect(await countJobs(jobs)).toBe(before + 1);
      const job = await jobs.getJob(
        releaseEventJobId({
          linkId,
          appId: original.data.app.id,
          version: original.data.version,
          status: original.data.status,
        }),
      );
      expect(job?.name).toBe('release-event');
      expect(job?.data).toEqual({
        eventId: original.id,
        linkId,
        appId: original.data.app.id,
        version: original.data.version,
        status: original.data.status,
        action: original.action,
        receivedAt: RECEIVED_AT,
      });
      expect(parseJobData('release-event', job?.data)).toEqual(job?.data);
      // The catalog's retry policy applies.
      expect(job?.opts.attempts).toBe(jobCatalog['release-event'].options.attempts);
      // Nothing personal or descriptive from the body reaches Redis.
      const stored = JSON.stringify(job?.data);
      expect(stored).not.toContain('@');
      expect(stored).not.toMatch(/zulip|example\.com|heroku-postgresql|Deploy/);
    });
  }

  it('makes one job of the same delivery sent 5 times, at once and one after another', async () => {
    const before = await countJobs(jobs);
    const { body, appId, version } = freshReleaseBody();
    const linkId = randomUUID();
    const atOnce = await Promise.all([1, 2, 3].map(() => deliver(body, linkId)));
    const afterwards = [await deliver(body, linkId), await deliver(body, linkId)];
    expect([...atOnce, ...afterwards].map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(await countJobs(jobs)).toBe(before + 1);
    expect((await jobs.getJob(releaseEventJobId({ linkId, appId, version, status: 'succeeded' })))?.data.linkId).toBe(
      linkId,
    );
  });

  it('makes one job of a release’s create and update, and another when its status changes', async () => {
    const before = await countJobs(jobs);
    const linkId = randomUUID();
    const version = 90_001;
    const body = (action: string, status: string) =>
      herokuBody('api-release-update-2025.json', { eventId: randomUUID(), version, action, status });
    const appId = bodyAppId(body('create', 'pending'));
    expect((await deliver(body('create', 'pending'), linkId)).status).toBe(202);
    expect((await deliver(body('update', 'succeeded'), linkId)).status).toBe(202);
    expect((await deliver(body('update', 'succeeded'), linkId)).status).toBe(202);
    expect(await countJobs(jobs)).toBe(before + 2);
    expect((await jobs.getJob(releaseEventJobId({ linkId, appId, version, status: 'pending' })))?.data.action).toBe(
      'create',
    );
    expect((await jobs.getJob(releaseEventJobId({ linkId, appId, version, status: 'succeeded' })))?.data.action).toBe(
      'update',
    );
  });

  it('makes one job per link when two links receive the same event (two projects syncing one app)', async () => {
    const before = await countJobs(jobs);
    const { body, appId, version } = freshReleaseBody();
    const [first, second] = [randomUUID(), randomUUID()];
    expect((await deliver(body, first)).status).toBe(202);
    expect((await deliver(body, second)).status).toBe(202);
    expect((await deliver(body, second)).status).toBe(202);
    expect(await countJobs(jobs)).toBe(before + 2);
    expect(
      (await jobs.getJob(releaseEventJobId({ linkId: first, appId, version, status: 'succeeded' })))?.data.linkId,
    ).toBe(first);
    expect(
      (await jobs.getJob(releaseEventJobId({ linkId: second, appId, version, status: 'succeeded' })))?.data.linkId,
    ).toBe(second);
  });

  it('accepts a signature under an older key of WEBHOOK_SIGNING_KEYS', async () => {
    const { body, appId, version } = freshReleaseBody();
    const linkId = randomUUID();
    const answer = await deliver(body, linkId, olderKey);
    expect(answer.status).toBe(202);
    expect(await jobs.getJob(releaseEventJobId({ linkId, appId, version, status: 'succeeded' }))).toBeDefined();
  });

  it("accepts a delivery whose Heroku ids have no RFC 9562 version bits, like the id in Heroku's docs", async () => {
    const docId = '01234567-89ab-cdef-0123-456789abcdef';
    const body = JSON.parse(herokuBody('api-release-update-2025.json').toString('utf8')) as {
      id: string;
      data: { id: string; version: number; app: { id: string } };
      webhook_metadata: { event: { id: string } };
    };
    body.id = docId;
    body.webhook_metadata.event.id = docId;
    body.data.id = docId;
    body.data.app.id = docId;
    body.data.version = 90_101;
    const linkId = randomUUID();
    const answer = await deliver(Buffer.from(JSON.stringify(body)), linkId);
    expect(answer).toMatchObject({ status: 202, json: { status: 'accepted' } });
    const job = await jobs.getJob(releaseEventJobId({ linkId, appId: docId, version: 90_101, status: 'succeeded' }));
    expect(parseJobData('release-event', job?.data)).toMatchObject({ eventId: docId, appId: docId, linkId });
  });

  for (const name of ['api-addon-attachment-create.json', 'api-addon-attachment-destroy.json']) {
    it(`acknowledges ${name} (another resource) without queueing it`, async () => {
      const before = await countJobs(jobs);
      const body = herokuBody(name);
      const answer = await deliver(body, randomUUID());
      expect(answer).toMatchObject({ status: 202, json: { status: 'ignored' } });
      expect(await countJobs(jobs)).toBe(before);
    });
  }
});

describe('refused deliveries get their status and make no job', () => {
  const linkId = randomUUID();
  const release = () => freshReleaseBody();

  /** A body of `size` bytes that is valid JSON, so only its size is wrong. */
  const paddedBody = (size: number) => {
    const head = '{"pad":"';
    const tail = '"}';
    return Buffer.from(head + 'x'.repeat(size - head.length - tail.length) + tail);
  };

  const cases: Array<{
    name: string;
    request: () => { body: Buffer | ReadableStream<Uint8Array>; signature: string | null; linkId?: string };
    status: number;
    code: string;
  }> = [
    {
      name: 'a signature made with a key not in WEBHOOK_SIGNING_KEYS',
      request: () => {
        const { body } = release();
        return { body, signature: signFor({ body, linkId, signingKey: 'some-other-key' }) };
      },
      status: 401,
      code: 'bad_signature',
    },
    {
      name: "a signature for another link's webhook",
      request: () => {
        const { body } = release();
        return { body, signature: signFor({ body, linkId: randomUUID(), signingKey: currentKey }) };
      },
      status: 401,
      code: 'bad_signature',
    },
    {
      name: 'a body with one byte changed after signing',
      request: () => {
        const { body } = release();
        const signature = signFor({ body, linkId, signingKey: currentKey });
        const changed = Buffer.from(body);
        const at = changed.indexOf('"version":') + '"version":'.length;
        changed[at] = changed[at] === 0x37 ? 0x38 : 0x37; // another digit: still valid JSON
        expect(changed.equals(body)).toBe(false);
        return { body: changed, signature };
      },
      status: 401,
      code: 'bad_signature',
    },
    {
      name: 'a missing signature header',
      request: () => ({ body: release().body, signature: null }),
      status: 401,
      code: 'missing_signature',
    },
    {
      name: 'a signature header that is not a base64 HMAC',
      request: () => ({ body: release().body, signature: 'sha256=abc' }),
      status: 401,
      code: 'malformed_signature',
    },
    {
      name: 'a signed body of 257 KiB',
      request: () => {
        const body = paddedBody(257 * 1024);
        return { body, signature: signFor({ body, linkId, signingKey: currentKey }) };
      },
      status: 413,
      code: 'payload_too_large',
    },
    {
      name: 'a signed body of 257 KiB sent chunked, without a length',
      request: () => {
        const body = paddedBody(257 * 1024);
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let at = 0; at < body.length; at += 16 * 1024) controller.enqueue(body.subarray(at, at + 16 * 1024));
            controller.close();
          },
        });
        return { body: stream, signature: signFor({ body, linkId, signingKey: currentKey }) };
      },
      status: 413,
      code: 'payload_too_large',
    },
    {
      name: 'signed invalid JSON',
      request: () => {
        const body = Buffer.from('{"id": "d5d2fb1d-f086-41bf-b054-1d349d4c4ce2", "action": ');
        return { body, signature: signFor({ body, linkId, signingKey: currentKey }) };
      },
      status: 400,
      code: 'invalid_json',
    },
    {
      name: 'a signed JSON body that is not a Heroku event',
      request: () => {
        const body = Buffer.from(JSON.stringify({ hello: 'world', id: randomUUID() }));
        return { body, signature: signFor({ body, linkId, signingKey: currentKey }) };
      },
      status: 400,
      code: 'not_a_heroku_event',
    },
    {
      name: 'a signed release without a version',
      request: () => {
        const parsed = JSON.parse(release().body.toString('utf8')) as { data: { version?: number } };
        delete parsed.data.version;
        const body = Buffer.from(JSON.stringify(parsed));
        return { body, signature: signFor({ body, linkId, signingKey: currentKey }) };
      },
      status: 400,
      code: 'not_a_heroku_event',
    },
    {
      name: 'a link id that is not a UUID',
      request: () => {
        const { body } = release();
        return {
          body,
          linkId: 'not-a-uuid',
          signature: signFor({ body, linkId: 'not-a-uuid', signingKey: currentKey }),
        };
      },
      status: 400,
      code: 'invalid_link_id',
    },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const before = await countJobs(jobs);
      const request = c.request();
      const answer = await postWebhook({
        baseUrl: ingress.url,
        linkId: request.linkId ?? linkId,
        body: request.body,
        signature: request.signature,
      });
      expect(answer.status).toBe(c.status);
      expect(answer.json).toEqual({ error: { code: c.code, message: expect.any(String) } });
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await countJobs(jobs)).toBe(before);
    });
  }

  it('answers a release with the right signature but a version changed in transit 401 (no job for it)', async () => {
    // The byte-change case above, checked against the queue: neither version is stored.
    const { body, appId, version } = freshReleaseBody(7);
    const signature = signFor({ body, linkId, signingKey: currentKey });
    const changed = Buffer.from(body.toString('utf8').replace('"version":7', '"version":8'));
    const answer = await postWebhook({ baseUrl: ingress.url, linkId, body: changed, signature });
    expect(answer.status).toBe(401);
    expect(await jobs.getJob(releaseEventJobId({ linkId, appId, version, status: 'succeeded' }))).toBeUndefined();
    expect(await jobs.getJob(releaseEventJobId({ linkId, appId, version: 8, status: 'succeeded' }))).toBeUndefined();
  });
});

describe('operations', () => {
  it('is ready while Redis answers', async () => {
    const healthz = await fetch(`${ingress.url}/healthz`);
    expect(healthz.status).toBe(200);
    const readyz = await fetch(`${ingress.url}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toEqual({ status: 'ready', checks: { redis: 'ok' } });
  });

  it('answers an unknown route 404 in the error format', async () => {
    const answer = await fetch(`${ingress.url}/webhooks/github`, { method: 'POST' });
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('exports requests by outcome, the enqueue latency and process metrics', async () => {
    const scrape = async () => {
      const text = await (await fetch(`${ingress.url}/metrics`)).text();
      /** The sample of `name` whose labels include all of `labels`, whatever their order. */
      const value = (name: string, labels: Record<string, string>) => {
        const line = text
          .split('\n')
          .find(
            (l) =>
              l.startsWith(`${name}{`) &&
              Object.entries(labels).every(([k, v]) => l.slice(0, l.indexOf('}')).includes(`${k}="${v}"`)),
          );
        return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
      };
      const outcome = (name: string) => value('hds_ingress_webhook_requests_total', { outcome: name, app: 'ingress' });
      return {
        text,
        accepted: outcome('accepted'),
        ignored: outcome('ignored'),
        unauthorized: outcome('unauthorized'),
        tooLarge: outcome('too_large'),
        badRequest: outcome('bad_request'),
        unavailable: outcome('queue_unavailable'),
        // A histogram series appears with its first observation.
        enqueued: value('hds_ingress_enqueue_duration_seconds_count', { result: 'ok', app: 'ingress' }) ?? 0,
      };
    };
    const before = await scrape();
    const linkId = randomUUID();
    const { body } = freshReleaseBody();
    expect((await deliver(body, linkId)).status).toBe(202);
    expect((await deliver(body, linkId)).status).toBe(202);
    expect((await deliver(herokuBody('api-addon-attachment-create.json'), linkId)).status).toBe(202);
    expect((await postWebhook({ baseUrl: ingress.url, linkId, body, signature: null })).status).toBe(401);
    expect((await deliver(Buffer.from('[1, 2'), linkId)).status).toBe(400);
    expect((await deliver(Buffer.alloc(300 * 1024, 0x20), linkId)).status).toBe(413);
    const after = await scrape();

    expect({
      accepted: after.accepted! - before.accepted!,
      ignored: after.ignored! - before.ignored!,
      unauthorized: after.unauthorized! - before.unauthorized!,
      badRequest: after.badRequest! - before.badRequest!,
      tooLarge: after.tooLarge! - before.tooLarge!,
      unavailable: after.unavailable! - before.unavailable!,
      enqueued: after.enqueued - before.enqueued,
    }).toEqual({ accepted: 2, ignored: 1, unauthorized: 1, badRequest: 1, tooLarge: 1, unavailable: 0, enqueued: 2 });
    expect(after.text).toMatch(/^hds_ingress_enqueue_duration_seconds_bucket\{le="0.005",.*result="ok".*\} [1-9]/m);
    expect(after.text).toContain('process_cpu_user_seconds_total');
    expect(after.text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('logs one structured line per webhook request, without bodies or signatures', async () => {
    const { body, eventId } = freshReleaseBody();
    const linkId = randomUUID();
    const signature = signFor({ body, linkId, signingKey: currentKey });
    const answer = await postWebhook({ baseUrl: ingress.url, linkId, body, signature });
    expect(answer.status).toBe(202);

    const lines = ingress.logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((l) => l.msg === 'webhook' && l.linkId === linkId);
    expect(mine).toEqual([
      expect.objectContaining({
        level: 30,
        method: 'POST',
        path: `/webhooks/heroku/${linkId}`,
        status: 202,
        outcome: 'accepted',
        eventId,
        ms: expect.any(Number),
      }),
    ]);
    const refused = lines.filter((l) => l.msg === 'webhook' && l.outcome === 'unauthorized');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ status: 401, reason: expect.any(String) });

    const all = ingress.logLines.join('\n');
    expect(all).not.toContain(signature);
    expect(all).not.toContain(SIGNATURE_HEADER);
    expect(all).not.toContain('sampleuser@gmail.com');
    expect(all).not.toContain('zulip-test');
    expect(all).not.toContain(currentKey);
  });
});
