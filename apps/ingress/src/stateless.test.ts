import { releaseEventJobId } from '@hds/queue';
import { randomUUID } from 'node:crypto';
import { createTestRedis, testServices, testWebhookSigningKeys, type TestRedis } from '@hds/testkit';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshReleaseBody, postWebhook, signFor } from './test-support/deliveries.js';
import { countJobs, eventsQueue, startTestIngress, type TestIngress } from './test-support/ingress-harness.js';

let testRedis: TestRedis;
let first: TestIngress;
let second: TestIngress;
let jobs: Queue;

beforeAll(async () => {
  testRedis = await createTestRedis();
  // Two instances with nothing in common but Redis and the configuration, like two processes behind a balancer.
  [first, second] = await Promise.all([
    startTestIngress({ redisUrl: testServices.redisUrl, prefix: testRedis.prefix }),
    startTestIngress({ redisUrl: testServices.redisUrl, prefix: testRedis.prefix }),
  ]);
  jobs = eventsQueue(testRedis.redis, testRedis.prefix);
});

afterAll(async () => {
  await Promise.all([first?.close(), second?.close()]);
  await jobs?.close();
  await testRedis?.cleanup();
});

describe('two ingress instances', () => {
  it('make one job of the same delivery sent to both, at once and again later', async () => {
    const { body, eventId, appId, version } = freshReleaseBody();
    const linkId = randomUUID();
    const signature = signFor({ body, linkId, signingKey: testWebhookSigningKeys[0]! });
    const send = (ingress: TestIngress) => postWebhook({ baseUrl: ingress.url, linkId, body, signature });

    const atOnce = await Promise.all([send(first), send(second), send(first), send(second)]);
    const later = [await send(second), await send(first)];
    expect([...atOnce, ...later].map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 202]);
    expect(await countJobs(jobs)).toBe(1);
    expect((await jobs.getJob(releaseEventJobId({ linkId, appId, version, status: 'succeeded' })))?.data).toMatchObject(
      {
        eventId,
        linkId,
      },
    );
  });

  it('each verify any link: a delivery signed for a link is accepted by either', async () => {
    const before = await countJobs(jobs);
    const linkId = randomUUID();
    const deliveries = [first, second].map((ingress) => {
      const { body } = freshReleaseBody();
      const signature = signFor({ body, linkId, signingKey: testWebhookSigningKeys[1]! });
      return postWebhook({ baseUrl: ingress.url, linkId, body, signature });
    });
    expect((await Promise.all(deliveries)).map((a) => a.status)).toEqual([202, 202]);
    expect(await countJobs(jobs)).toBe(before + 2);
  });
});
