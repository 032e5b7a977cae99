import { startRedisServer } from '@hds/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedis, redisConnected } from './connection.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

describe('redisConnected', () => {
  it('waits for a Redis that starts after the client, so the first command succeeds', async () => {
    const server = await startRedisServer();
    closers.push(() => server.close());
    await server.stop();
    const redis = createRedis(server.url, { role: 'producer', name: 'hds-test' });
    redis.on('error', () => {});
    closers.push(async () => redis.disconnect());

    // A producer client refuses commands until it has connected.
    await expect(redis.set('k', 'v')).rejects.toThrow(/enableOfflineQueue/);
    const connected = redisConnected(redis, { timeoutMs: 20_000 });
    await server.start();
    expect(await connected).toBe(true);
    expect(await redis.set('k', 'v')).toBe('OK');
    expect(await redisConnected(redis, { timeoutMs: 0 })).toBe(true);
  });

  it('gives up after the timeout when Redis stays away', async () => {
    const server = await startRedisServer();
    closers.push(() => server.close());
    await server.stop();
    const redis = createRedis(server.url, { role: 'producer', name: 'hds-test' });
    redis.on('error', () => {});
    closers.push(async () => redis.disconnect());
    expect(await redisConnected(redis, { timeoutMs: 300 })).toBe(false);
  });
});
