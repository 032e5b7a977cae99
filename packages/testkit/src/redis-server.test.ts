import { Redis } from 'ioredis';
import { tcpProbe } from './tcp-probe.js';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from './redis-server.js';

const servers: RedisServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** One PING on a fresh connection that neither retries nor queues. */
async function ping(url: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  try {
    await redis.connect();
    return await redis.ping();
  } finally {
    redis.disconnect();
  }
}

describe('startRedisServer', () => {
  it('starts a private server that can be stopped and started again on the same port', async () => {
    const server = await startRedisServer();
    servers.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.port).not.toBe(6379);
    expect(await ping(server.url)).toBe('PONG');

    await server.stop();
    expect(server.running).toBe(false);
    expect(await tcpProbe(server.port)).toBe('ECONNREFUSED');

    await server.start();
    expect(server.running).toBe(true);
    expect(await ping(server.url)).toBe('PONG');
  });

  it('passes extra configuration, e.g. persistence', async () => {
    const server = await startRedisServer({ args: ['--appendonly', 'yes', '--appendfsync', 'everysec'] });
    servers.push(server);
    const redis = new Redis(server.url, { lazyConnect: true });
    await redis.connect();
    try {
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    } finally {
      redis.disconnect();
    }
  });

  it('pauses: commands get no answer until it resumes', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const redis = new Redis(server.url, { lazyConnect: true });
    await redis.connect();
    try {
      server.pause();
      let answered = false;
      const pending = redis.ping().then((answer) => {
        answered = true;
        return answer;
      });
      // A round trip on another server proves time passed for the paused one to answer, had it been running.
      const other = await startRedisServer();
      servers.push(other);
      expect(await ping(other.url)).toBe('PONG');
      expect(answered).toBe(false);
      server.resume();
      expect(await pending).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });
});
