export interface RetryPolicy {
  /** Total tries, including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 8000 };

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * a uniformly random delay in [0, min(max, base · 2^retry)), so retrying clients spread out.
 */
export function fullJitterDelay(options: { retry: number; policy: RetryPolicy; random: () => number }): number {
  const ceiling = Math.min(options.policy.maxDelayMs, options.policy.baseDelayMs * 2 ** options.retry);
  return Math.floor(options.random() * ceiling);
}
