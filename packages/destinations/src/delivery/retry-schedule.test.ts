import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE, nextAttemptDelay, parseRetryAfter, parseRetrySchedule } from './retry-schedule.js';

describe('the retry schedule', () => {
  it('defaults to Svix’s: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(parseRetrySchedule(DEFAULT_RETRY_SCHEDULE)).toEqual(
      [0, 5, 300, 1800, 7200, 18000, 36000, 36000].map((s) => s * 1000),
    );
  });

  it('refuses a malformed schedule', () => {
    for (const bad of ['', '1,,2', '5,-1', 'soon']) expect(() => parseRetrySchedule(bad)).toThrow(/seconds/);
  });

  it('waits the next entry with ±20 % jitter, and ends when the schedule is used up', () => {
    const scheduleMs = parseRetrySchedule('0,5,300');
    expect(nextAttemptDelay({ scheduleMs, attemptsMade: 1, random: () => 0 })).toBe(4000);
    expect(nextAttemptDelay({ scheduleMs, attemptsMade: 1, random: () => 1 })).toBe(6000);
    expect(nextAttemptDelay({ scheduleMs, attemptsMade: 2, random: () => 0.5 })).toBe(300_000);
    expect(nextAttemptDelay({ scheduleMs, attemptsMade: 3 })).toBeNull();
  });

  it('lets Retry-After win over the schedule', () => {
    const scheduleMs = parseRetrySchedule('0,5,300');
    expect(nextAttemptDelay({ scheduleMs, attemptsMade: 1, retryAfterMs: 120_000 })).toBe(120_000);
    expect(nextAttemptDelay({ scheduleMs, attemptsMade: 3, retryAfterMs: 1000 })).toBeNull();
  });

  it('reads Retry-After as seconds or an HTTP date, capped', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('999999999', now)).toBe(24 * 3600_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
