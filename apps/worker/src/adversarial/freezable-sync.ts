import type { SyncService } from '@hds/sync';

/**
 * A worker's SyncService whose Heroku answers can be held back: after `freeze()`, every Platform API call of this
 * service (one in flight, or one started later) gets its answer, or its error, only at `thaw()`. This is how a
 * crashed worker is played in process: BullMQ takes its jobs over (its locks lapse), while its processors,
 * which nothing can stop, are frozen at their next Heroku answer, like a process that hung and wakes up later.
 * What they do after the thaw (commit a release fetched long ago) is what the version guard must make harmless.
 */
export interface FreezableSync {
  sync: SyncService;
  freeze(): void;
  thaw(): void;
}

export function freezableSync(sync: SyncService): FreezableSync {
  let thawed: Promise<void> = Promise.resolve();
  let thaw = () => {};
  const client = sync.credentials.client.bind(sync.credentials);
  sync.credentials.client = (accountId) =>
    new Proxy(client(accountId), {
      get(object, property, receiver) {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): unknown => {
          const result: unknown = Reflect.apply(value, object, args);
          // Read when the answer comes: a call already out when the worker froze is held as well.
          return result instanceof Promise ? result.finally(() => thawed) : result;
        };
      },
    });
  return {
    sync,
    freeze() {
      thawed = new Promise((resolve) => {
        thaw = resolve;
      });
    },
    thaw() {
      thaw();
    },
  };
}
