import { releaseEventJobId } from '@hds/queue';
import { randomUUID } from 'node:crypto';
import { Agent, request, type IncomingMessage } from 'node:http';
import { SIGNATURE_HEADER } from '@hds/heroku';
import {
  createTestRedis,
  startSourceProcess,
  tcpProbe,
  testServices,
  testWebhookSigningKeys,
  type RunningProcess,
  type TestRedis,
} from '@hds/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshReleaseBody, signFor } from './test-support/deliveries.js';
import { eventsQueue } from './test-support/ingress-harness.js';

let testRedis: TestRedis;
let ingress: RunningProcess | undefined;

beforeAll(async () => {
  testRedis = await createTestRedis();
});
afterAll(async () => {
  await ingress?.stop('SIGKILL');
  await testRedis?.cleanup();
});

describe('ingress process (src/main.ts)', () => {
  it('on SIGTERM stops accepting, finishes the delivery in flight, closes Redis and exits 0', async () => {
    ingress = startSourceProcess('apps/ingress/src/main.ts', {
      REDIS_URL: testServices.redisUrl,
      QUEUE_PREFIX: testRedis.prefix,
      WEBHOOK_SIGNING_KEYS: testWebhookSigningKeys.join(','),
      PORT: '0',
      LOG_LEVEL: 'info',
    });
    const isLog = (msg: string) => (line: string) => line.includes(`"msg":"${msg}"`);
    const listening = JSON.parse(await ingress.waitForLine(isLog('ingress listening'))) as { port: number };
    await ingress.waitForLine(isLog('redis ready'));

    const { body, eventId, appId, version } = freshReleaseBody();
    const linkId = randomUUID();
    const signature = signFor({ body, linkId, signingKey: testWebhookSigningKeys[0]! });
    // `Expect: 100-continue` makes the server confirm it has the request before the body is sent: the delivery is
    // provably in flight when SIGTERM arrives.
    const agent = new Agent({ keepAlive: true });
    const req = request({
      host: '127.0.0.1',
      port: listening.port,
      method: 'POST',
      path: `/webhooks/heroku/${linkId}`,
      // A keep-alive connection, as a webhook sender may hold: it must not keep the process from exiting.
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': body.length,
        expect: '100-continue',
        [SIGNATURE_HEADER]: signature,
      },
    });
    const answered = new Promise<{ status: number | undefined; text: string }>((resolve, reject) => {
      req.once('response', (res: IncomingMessage) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      });
      req.once('error', reject);
    });
    // Should an assertion below fail first, the request's end is reported there, not as an unhandled rejection.
    answered.catch(() => {});
    await new Promise<void>((resolve) => req.once('continue', resolve));

    ingress.child.kill('SIGTERM');
    await ingress.waitForLine(isLog('stopped accepting connections; finishing requests in flight'));
    // The listening socket is closed: new connections are refused while the delivery in flight goes on.
    expect(await tcpProbe(listening.port)).toBe('ECONNREFUSED');
    req.end(body);
    expect(await answered).toEqual({ status: 202, text: JSON.stringify({ status: 'accepted' }) });

    const exit = await ingress.exited;
    agent.destroy();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(ingress.lines.some(isLog('stopped'))).toBe(true);

    const jobs = eventsQueue(testRedis.redis, testRedis.prefix);
    try {
      expect(
        (await jobs.getJob(releaseEventJobId({ linkId, appId, version, status: 'succeeded' })))?.data,
      ).toMatchObject({
        eventId,
        linkId,
      });
    } finally {
      await jobs.close();
    }
  });
});
