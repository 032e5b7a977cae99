import type { Logger } from '@hds/core';
import { changeKey, type StateChange } from '../state/changes.js';

/**
 * Changes on their way to the state database. `record` queues a change (the store and the OAuth state call it);
 * a write starts on the next turn of the event loop, and `flush` resolves once everything recorded before it is
 * written. Writes run one after another, so an older write never lands after a newer one; a failed write keeps
 * its changes for the next. An HTTP answer waits for `flush` (see `persist-before-answering.ts`).
 */
export class StateJournal {
  private queue: StateChange[] = [];
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;

  constructor(
    private readonly options: {
      write: (changes: readonly StateChange[]) => Promise<void>;
      logger: Logger;
    },
  ) {}

  record(change: StateChange): void {
    this.queue.push(change);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush().catch((err: unknown) => {
        this.options.logger.error({ err }, 'could not write the sim state (retried with the next change)');
      });
    });
  }

  /** Resolves once every change recorded so far is written; rejects if writing them failed. */
  flush(): Promise<void> {
    const run = this.writing
      .catch(() => {})
      .then(async () => {
        if (this.queue.length === 0) return;
        const batch = this.queue;
        this.queue = [];
        try {
          await this.options.write(coalesce(batch));
        } catch (err) {
          this.queue = [...batch, ...this.queue];
          throw err;
        }
      });
    this.writing = run;
    return run;
  }

  get pending(): number {
    return this.queue.length;
  }
}

/**
 * One write per changed object, at the place of its first change (the writer stores objects as they are now, so
 * later changes of the same object are in it). Everything before the last reset is moot.
 */
export function coalesce(changes: readonly StateChange[]): StateChange[] {
  const lastReset = changes.findLastIndex((c) => c.kind === 'reset');
  const seen = new Set<string>();
  const out: StateChange[] = [];
  for (const change of lastReset === -1 ? changes : changes.slice(lastReset)) {
    const key = changeKey(change);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(change);
  }
  return out;
}
