import { Redis } from 'ioredis';
import { testServices, uniqueName } from './config.js';

export interface TestRedis {
  /** A queue prefix no other test uses. */
  prefix: string;
  redis: Redis;
  /** Deletes every key under the prefix and closes the connection. */
  cleanup(): Promise<void>;
}

export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

export async function createTestRedis(): Promise<TestRedis> {
  const redis = new Redis(testServices.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  await redis.connect();
  const prefix = uniqueName('hdstest');
  return {
    prefix,
    redis,
    cleanup: async () => {
      await deleteKeysWithPrefix(redis, prefix);
      redis.disconnect();
    },
  };
}
