export type TimedResult<T> =
  { ok: true; value: T } | { ok: false; reason: 'timeout' } | { ok: false; reason: 'failed'; error: unknown };

/**
 * Settles with `promise`'s outcome or with a timeout after `timeoutMs`, whichever comes first. The promise keeps
 * running past a timeout; its late outcome is swallowed, never an unhandled rejection.
 */
export function settleWithin<T>(promise: Promise<T>, timeoutMs: number): Promise<TimedResult<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, reason: 'timeout' }), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve({ ok: true, value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ ok: false, reason: 'failed', error });
      },
    );
  });
}
