import type { Clock } from '../support/clock.js';

export interface BucketSettings {
  capacity: number;
  refillPerMinute: number;
}

interface Bucket extends BucketSettings {
  tokens: number;
  updatedAt: number;
  overridden: boolean;
}

/**
 * Heroku's rate limit: a token bucket per account (4,500 tokens, refilled at 75 a minute by default).
 * Each counted request takes one token; with none left the request is refused (429).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly defaults: BucketSettings,
    private readonly clock: Clock,
  ) {}

  /** Takes a token if there is one; `remaining` is what is left afterwards (what `RateLimit-Remaining` says). */
  take(accountId: string): { ok: boolean; remaining: number } {
    const bucket = this.refilled(accountId);
    if (bucket.tokens < 1) return { ok: false, remaining: 0 };
    bucket.tokens -= 1;
    return { ok: true, remaining: Math.floor(bucket.tokens) };
  }

  remaining(accountId: string): number {
    return Math.floor(this.refilled(accountId).tokens);
  }

  get capacity(): number {
    return this.defaults.capacity;
  }

  /** Sets an account's bucket now (a fault): its tokens and, optionally, its capacity and refill rate. */
  override(accountId: string, settings: { remaining?: number; capacity?: number; refillPerMinute?: number }): void {
    const bucket = this.refilled(accountId);
    if (settings.capacity !== undefined) bucket.capacity = settings.capacity;
    if (settings.refillPerMinute !== undefined) bucket.refillPerMinute = settings.refillPerMinute;
    bucket.tokens = Math.min(bucket.capacity, settings.remaining ?? bucket.tokens);
    bucket.overridden = true;
  }

  /** Gives overridden accounts the default settings and a full bucket again. */
  clearOverrides(): void {
    for (const [accountId, bucket] of this.buckets) {
      if (bucket.overridden) this.buckets.delete(accountId);
    }
  }

  reset(): void {
    this.buckets.clear();
  }

  private refilled(accountId: string): Bucket {
    const now = this.clock();
    let bucket = this.buckets.get(accountId);
    if (!bucket) {
      bucket = { ...this.defaults, tokens: this.defaults.capacity, updatedAt: now, overridden: false };
      this.buckets.set(accountId, bucket);
      return bucket;
    }
    const elapsedMs = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (elapsedMs * bucket.refillPerMinute) / 60_000);
    bucket.updatedAt = now;
    return bucket;
  }
}
