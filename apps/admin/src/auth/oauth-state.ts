import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** What a pending "sign in with Heroku" remembers between start and callback. */
export interface PendingSignIn {
  /** The console session that started it: the callback must come from the same browser. */
  sessionId: string;
  /** The project page to return to. */
  projectId?: string | undefined;
}

const pendingSchema = z.object({ sessionId: z.string(), projectId: z.uuid().optional() });

/** Pending sign-ins by OAuth `state`; `take` hands each out once. */
export interface OAuthStateStore {
  save(state: string, pending: PendingSignIn, ttlSeconds: number): Promise<void>;
  take(state: string): Promise<PendingSignIn | undefined>;
}

/**
 * Pending sign-ins in Redis (shared by every admin instance), keyed by a hash of the state so a Redis dump
 * holds no usable state. `GETDEL` makes each state single-use even when two callbacks race.
 */
export function redisOAuthStateStore(options: { redis: Redis; prefix: string }): OAuthStateStore {
  const key = (state: string) =>
    `${options.prefix}:admin:oauth-state:${createHash('sha256').update(state).digest('hex')}`;
  return {
    async save(state, pending, ttlSeconds) {
      await options.redis.set(key(state), JSON.stringify(pending), 'EX', ttlSeconds, 'NX');
    },
    async take(state) {
      const stored = await options.redis.getdel(key(state));
      if (stored === null) return undefined;
      const parsed = pendingSchema.safeParse(JSON.parse(stored));
      return parsed.success ? parsed.data : undefined;
    },
  };
}
