/**
 * Counts work that is under way (deliveries waiting for an attempt or a retry, release phases that will
 * finish) so tests can await "everything settled" instead of sleeping.
 */
export class PendingWork {
  private count = 0;
  private waiters: Array<() => void> = [];

  begin(): void {
    this.count += 1;
  }

  end(): void {
    this.count = Math.max(0, this.count - 1);
    if (this.count === 0) this.wake();
  }

  get size(): number {
    return this.count;
  }

  /** Resolves once nothing is pending (at once if nothing is). */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Forgets all work and releases every waiter (on close and reset). */
  abandon(): void {
    this.count = 0;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
