/** Milliseconds since the epoch. Injected so tests can move time (token expiry, rate-limit refill) without waiting. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** Heroku's timestamp format for resources: seconds precision, `Z` suffix (`2012-01-01T12:00:00Z`). */
export function herokuTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Webhook envelope timestamps carry microseconds (`2025-05-17T11:37:58.404020Z`). */
export function eventTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
