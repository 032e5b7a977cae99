/**
 * Every timer the sim starts goes through one TimerSet, so `close()` can stop them all and no test leaks a
 * handle. `sleep` resolves early (with `false`) when the set is cleared.
 */
export class TimerSet {
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private closed = false;

  /** Runs `fn` after `ms` unless the set is cleared first. */
  set(fn: () => void, ms: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.set(timer, () => undefined);
  }

  /** Resolves `true` after `ms`, or `false` as soon as the set is cleared. */
  sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve(true);
      }, ms);
      this.timers.set(timer, () => resolve(false));
    });
  }

  get size(): number {
    return this.timers.size;
  }

  /** Cancels every pending timer; with `close`, later calls start nothing. */
  clear(options: { close?: boolean } = {}): void {
    if (options.close) this.closed = true;
    for (const [timer, cancel] of this.timers) {
      clearTimeout(timer);
      cancel();
    }
    this.timers.clear();
  }
}
