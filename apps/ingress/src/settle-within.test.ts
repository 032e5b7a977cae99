import { describe, expect, it } from 'vitest';
import { settleWithin } from './settle-within.js';

describe('settleWithin', () => {
  it('passes a value through', async () => {
    expect(await settleWithin(Promise.resolve(42), 1000)).toEqual({ ok: true, value: 42 });
  });

  it('reports a rejection as a failure', async () => {
    const error = new Error('refused');
    expect(await settleWithin(Promise.reject(error), 1000)).toEqual({ ok: false, reason: 'failed', error });
  });

  it('times out on a promise that does not settle in time, and swallows its late rejection', async () => {
    let reject: (err: Error) => void = () => {};
    const slow = new Promise<number>((_resolve, r) => (reject = r));
    expect(await settleWithin(slow, 5)).toEqual({ ok: false, reason: 'timeout' });
    // A late rejection must not surface as an unhandled rejection (vitest fails the run on one): reject, then let
    // one turn of the event loop pass, in which Node reports unhandled rejections.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      reject(new Error('late'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
