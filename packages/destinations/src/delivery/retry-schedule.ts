/** Svix's schedule (seconds): immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE = '0,5,300,1800,7200,18000,36000,36000';

/**
 * Parses `DELIVERY_RETRY_SCHEDULE`: seconds, comma-separated; entry i is the wait before attempt i + 1 (the first
 * is the wait before the first attempt, normally 0). Its length is the number of attempts.
 */
export function parseRetrySchedule(text: string): number[] {
  const entries = text.split(',').map((entry) => entry.trim());
  const seconds = entries.map(Number);
  if (entries.length === 0 || entries.some((e) => e === '') || seconds.some((s) => !Number.isFinite(s) || s < 0)) {
    throw new Error(`retry schedule "${text}" must be non-negative seconds, comma-separated`);
  }
  return seconds.map((s) => Math.round(s * 1000));
}

/** A target's `Retry-After` (seconds or an HTTP date) in ms, capped; `undefined` when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, now: number, capMs = 24 * 3600_000): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, Math.round(ms)), capMs);
}

/**
 * When the next attempt may run after `attemptsMade` attempts, or `null` when the schedule is used up. A target's
 * `retryAfterMs` wins over the schedule (it asked); the schedule gets ±20 % jitter so a failing receiver's
 * retries do not arrive in lockstep.
 */
export function nextAttemptDelay({
  scheduleMs,
  attemptsMade,
  retryAfterMs,
  random = Math.random,
}: {
  scheduleMs: readonly number[];
  attemptsMade: number;
  retryAfterMs?: number | undefined;
  random?: () => number;
}): number | null {
  const base = scheduleMs[attemptsMade];
  if (base === undefined) return null;
  if (retryAfterMs !== undefined) return retryAfterMs;
  return Math.round(base * (0.8 + 0.4 * random()));
}
