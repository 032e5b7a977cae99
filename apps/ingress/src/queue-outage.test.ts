import { releaseEventJobId } from '@hds/queue';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { startRedisServer, testWebhookSigningKeys, uniqueName, type RedisServer } from '@hds/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshReleaseBody, postWebhook, signFor, type WebhookAnswer } from './test-support/deliveries.js';
import { countJobs, eventsQueue, startTestIngress, type TestIngress } from './test-support/ingress-harness.js';

// These tests stop, pause and restart Redis, so they use a private redis-server, never the shared one.
let server: RedisServer;
const opened: TestIngress[] = [];

beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  if (!server.running) await server.start();
  await Promise.all(opened.splice(0).map((i) => i.close()));
});
afterAll(async () => {
  await server?.close();
});

async function startIngress(prefix = uniqueName('outage'), waitForRedis = true): Promise<TestIngress> {
  const ingress = await startTestIngress({ redisUrl: server.url, prefix, waitForRedis });
  opened.push(ingress);
  return ingress;
}

function deliverFresh(
  ingress: TestIngress,
): Promise<WebhookAnswer & { eventId: string; linkId: string; appId: string; version: number }> {
  const { body, eventId, appId, version } = freshReleaseBody();
  const linkId = randomUUID();
  const signature = signFor({ body, linkId, signingKey: testWebhookSigningKeys[0]! });
  return postWebhook({ baseUrl: ingress.url, linkId, body, signature }).then((a) => ({
    ...a,
    eventId,
    linkId,
    appId,
    version,
  }));
}

/** Resolves once the ingress's Redis connection is ready (again). */
async function redisReady(ingress: TestIngress): Promise<void> {
  if (ingress.queue.redis.status !== 'ready') await once(ingress.queue.redis, 'ready');
}

function expectUnavailable(answer: WebhookAnswer): void {
  expect(answer.status).toBe(503);
  expect(answer.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
  expect(answer.json).toEqual({ error: { code: 'queue_unavailable', message: expect.any(String) } });
  expect(answer.ms).toBeLessThan(2000);
}

/** The job stored for a delivery, read on a connection of the test's own. */
async function storedJob(prefix: string, delivery: { linkId: string; appId: string; version: number }) {
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  const queue = eventsQueue(redis, prefix);
  try {
    return {
      job: await queue.getJob(releaseEventJobId({ ...delivery, status: 'succeeded' })),
      count: await countJobs(queue),
    };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

describe('when Redis is unavailable', () => {
  it('answers 503 within 2 s while Redis is stopped, and accepts the next delivery once it is back', async () => {
    const prefix = uniqueName('outage');
    const ingress = await startIngress(prefix);
    await redisReady(ingress);
    expect((await deliverFresh(ingress)).status).toBe(202);

    await server.stop();
    const refused = await deliverFresh(ingress);
    expectUnavailable(refused);
    const readyz = await fetch(`${ingress.url}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toEqual({ status: 'not_ready', checks: { redis: 'failing' } });

    await server.start();
    await redisReady(ingress);
    const accepted = await deliverFresh(ingress);
    expect(accepted.status).toBe(202);
    // The server kept no data across the restart: exactly the new job is there, the refused one never was.
    expect(await storedJob(prefix, accepted)).toMatchObject({
      job: { id: releaseEventJobId({ ...accepted, status: 'succeeded' }) },
      count: 1,
    });
    expect((await fetch(`${ingress.url}/readyz`)).status).toBe(200);
  });

  it('answers 503 within 2 s when Redis accepts the connection but does not answer', async () => {
    const ingress = await startIngress();
    await redisReady(ingress);
    server.pause();
    try {
      expectUnavailable(await deliverFresh(ingress));
    } finally {
      server.resume();
    }
    expect((await deliverFresh(ingress)).status).toBe(202);
  });

  it('answers 503 within 2 s when Redis was down before the ingress started, and 202 once it is up', async () => {
    await server.stop();
    const prefix = uniqueName('outage');
    const ingress = await startIngress(prefix, false);
    expectUnavailable(await deliverFresh(ingress));

    await server.start();
    await redisReady(ingress);
    const accepted = await deliverFresh(ingress);
    expect(accepted.status).toBe(202);
    expect(await storedJob(prefix, accepted)).toMatchObject({
      job: { id: releaseEventJobId({ ...accepted, status: 'succeeded' }) },
      count: 1,
    });
  });
});
