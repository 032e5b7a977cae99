import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'producer' | 'worker';

/**
 * An ioredis client for BullMQ.
 * - `producer` (ingress, admin): fails fast when Redis is unreachable instead of queueing commands, so the
 *   ingress can answer 503 at once and let Heroku redeliver.
 * - `worker`: retries forever, as BullMQ's blocking commands require.
 */
export function createRedis(url: string, options: { role: RedisRole; name: string }): Redis {
  const common: RedisOptions = {
    connectionName: options.name,
    // Reconnect quickly but not in a hot loop.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 2000),
  };
  if (options.role === 'producer') {
    return new Redis(url, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
    });
  }
  return new Redis(url, {
    ...common,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Many jobs finish in the same event-loop turn: send their commands in one write (a syscall per command is
    // a large share of a job's cost). Blocking reads stay out of pipelines.
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: ['bzpopmin', 'bzpopmax', 'brpoplpush', 'blmove', 'xread', 'xreadgroup'],
  });
}

/**
 * Resolves once `redis` is connected and ready (true), or after `timeoutMs` without a connection (false). A
 * `producer` client fails commands sent before it has connected, so a process that serves requests right after
 * start-up waits for this first.
 */
export function redisConnected(redis: Redis, options: { timeoutMs: number }): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (connected: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(connected);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), options.timeoutMs);
    redis.on('ready', onReady);
  });
}

/** Readiness check: Redis answers PING. */
export async function pingRedis(redis: Redis): Promise<void> {
  const answer = await redis.ping();
  if (answer !== 'PONG') throw new Error('unexpected PING answer');
}
