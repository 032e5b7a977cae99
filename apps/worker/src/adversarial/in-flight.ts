import type { SyncService } from '@hds/sync';

/**
 * Counts the SyncService calls the worker runtimes make until they settle. A crashed runtime's processors go on
 * after BullMQ has given their jobs to another worker; `idle()` waits for them too, so that the property is
 * checked only once nothing can write any more.
 */
export interface InFlight {
  /** The same service, with every call that returns a promise counted. */
  wrap(sync: SyncService): SyncService;
  /** How many calls are running now. */
  readonly running: number;
  /** Resolves once no call is running (calls started while waiting are waited for as well). */
  idle(): Promise<void>;
}

export function createInFlight(): InFlight {
  const pending = new Set<Promise<unknown>>();
  const track = (result: unknown): unknown => {
    if (!(result instanceof Promise)) return result;
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    pending.add(settled);
    void settled.then(() => pending.delete(settled));
    return result;
  };
  return {
    wrap: (target) =>
      new Proxy(target, {
        get(object, property, receiver) {
          const value: unknown = Reflect.get(object, property, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => track(Reflect.apply(value, object, args));
        },
      }),
    get running() {
      return pending.size;
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
