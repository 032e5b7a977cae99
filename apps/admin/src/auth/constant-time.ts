import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const compareKey = randomBytes(32);

/**
 * Compares two secrets in constant time, whatever their lengths: both are hashed with a per-process key
 * first, so neither the content nor the length of the expected value leaks through timing.
 */
export function constantTimeEqual(given: string, expected: string): boolean {
  const a = createHmac('sha256', compareKey).update(given).digest();
  const b = createHmac('sha256', compareKey).update(expected).digest();
  return timingSafeEqual(a, b);
}
