import { PassThrough } from 'node:stream';
import type { Server } from 'node:http';
import { createLogger, createMetricsRegistry } from '@hds/core';
import { queueNames } from '@hds/queue';
import { createTestRedis, testServices, testWebhookSigningKeys } from '@hds/testkit';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { createIngressApp, type IngressAppOptions } from '../app.js';
import { connectQueue, type IngressQueue } from '../queue.js';
import { defaultRequestTimeoutMs, serveIngress } from '../server.js';

export interface TestIngress {
  url: string;
  server: Server;
  signingKeys: readonly string[];
  queue: IngressQueue;
  registry: Registry;
  /** Every log line the ingress wrote, raw. */
  logLines: string[];
  close(): Promise<void>;
}

/**
 * An in-process ingress on a loopback port 0, with its own Redis connection and a captured log. Resolves once its
 * queue is ready, unless `waitForRedis` is false (for tests that start it while Redis is down).
 */
export async function startTestIngress(
  options: {
    redisUrl: string;
    prefix: string;
    signingKeys?: readonly string[];
    waitForRedis?: boolean;
    /** The ingress's REQUEST_TIMEOUT_MS (default: the production default). */
    requestTimeoutMs?: number;
  } & Pick<IngressAppOptions, 'enqueueTimeoutMs' | 'now'>,
): Promise<TestIngress> {
  const logLines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => logLines.push(...chunk.toString().split('\n').filter(Boolean)));
  const logger = createLogger({ app: 'ingress', level: 'debug', destination: stream });
  const queue = connectQueue({ redisUrl: options.redisUrl, prefix: options.prefix, logger, name: 'hds-ingress-test' });
  const registry = createMetricsRegistry('ingress');
  const signingKeys = options.signingKeys ?? testWebhookSigningKeys;
  const app = createIngressApp({
    producer: queue.producer,
    signingKeys,
    logger,
    registry,
    queueIsUp: queue.isUp,
    readinessChecks: { redis: queue.ping },
    ...(options.enqueueTimeoutMs === undefined ? {} : { enqueueTimeoutMs: options.enqueueTimeoutMs }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  if (options.waitForRedis !== false) await queue.producer.queue(queueNames.events).waitUntilReady();
  const server = await serveIngress({
    app,
    port: 0,
    host: '127.0.0.1',
    requestTimeoutMs: options.requestTimeoutMs ?? defaultRequestTimeoutMs,
  });
  return {
    url: server.url,
    server: server.server,
    signingKeys,
    queue,
    registry,
    logLines,
    close: async () => {
      await server.close(1000);
      await queue.close();
    },
  };
}

/** The events queue under `prefix`, read through the test's own connection, to inspect what the ingress stored. */
export function eventsQueue(connection: Redis, prefix: string): Queue {
  return new Queue(queueNames.events, { connection, prefix });
}

/** How many jobs the queue holds in any state. */
export async function countJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts();
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** An in-process ingress on a Redis prefix of its own, and that prefix's events queue to inspect. */
export async function startIngressWithJobs(
  options: Omit<Parameters<typeof startTestIngress>[0], 'redisUrl' | 'prefix'> = {},
): Promise<{ ingress: TestIngress; jobs: Queue; close(): Promise<void> }> {
  const testRedis = await createTestRedis();
  const ingress = await startTestIngress({ redisUrl: testServices.redisUrl, prefix: testRedis.prefix, ...options });
  const jobs = eventsQueue(testRedis.redis, testRedis.prefix);
  return {
    ingress,
    jobs,
    close: async () => {
      await ingress.close();
      await jobs.close();
      await testRedis.cleanup();
    },
  };
}
