import type { Logger } from '@hds/core';
import { createRedis, JobProducer, pingRedis } from '@hds/queue';
import type { Redis } from 'ioredis';

export interface IngressQueue {
  redis: Redis;
  producer: JobProducer;
  /** Whether the connection is up now; when it is not, a delivery is refused at once instead of waiting. */
  isUp: () => boolean;
  /** `/readyz`: Redis answers PING. */
  ping: () => Promise<void>;
  /** Closes the queues, then the connection (at once if Redis is down). */
  close: () => Promise<void>;
}

/**
 * The ingress's one Redis connection (producer role: no offline queue, so a Redis outage fails a request at once)
 * and the job producer on it. Connection errors are logged once per event, never thrown at the process.
 */
export function connectQueue(options: {
  redisUrl: string;
  prefix: string;
  logger: Logger;
  name?: string;
}): IngressQueue {
  const { logger } = options;
  const redis = createRedis(options.redisUrl, { role: 'producer', name: options.name ?? 'hds-ingress' });
  redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  redis.on('ready', () => logger.info('redis ready'));
  const producer = new JobProducer({ connection: redis, prefix: options.prefix });
  // BullMQ re-emits the connection's errors on every queue; they are logged above already.
  for (const queue of producer.all()) queue.on('error', () => {});
  return {
    redis,
    producer,
    isUp: () => redis.status === 'ready',
    ping: () => pingRedis(redis),
    close: async () => {
      await producer.close();
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
