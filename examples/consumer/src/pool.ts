import postgres, { type Sql } from 'postgres';

/** Errors that mean "this session or this pool's credentials are gone": Heroku's reset after a rotation. */
const CUT_BY_RESET = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, what a credential rotation does to open sessions
  '57P02',
  '57P03',
  '28P01', // the old password no longer works for a new connection
  '28000',
  '08006',
  '08003',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNRESET',
]);

/**
 * How long a query cut by a rotation's reset may keep running again on newer pools, from the first cut. Rotations in
 * quick succession can cut a rerun too (a query queued behind others on a busy pool runs late); each cut sends it
 * to the pool after, until this has passed.
 */
const RESET_DEADLINE_MS = 30_000;
/** How long a cut query waits for a pool on a new URL before it runs again on the one it has. */
const WAIT_FOR_NEW_POOL_MS = 10_000;
/**
 * Seconds the old pool's queries get to finish after a swap. A rotation has ended their sessions, and postgres.js
 * keeps reconnecting a session it lost mid-query with the old password, without failing the queries waiting for
 * it: ending the old pool fails them (CONNECTION_DESTROYED), and they run again on the new pool.
 */
const OLD_POOL_GRACE_S = 2;

export const cutByReset = (err: unknown): boolean => CUT_BY_RESET.has(String((err as { code?: unknown }).code));

/**
 * postgres.js rejects a promise nobody holds when `end({timeout})` destroys a connection still in its start-up
 * (seen after a rotation ended the old role's sessions). It is the old pool going away: not worth a crash.
 */
export function ignoreDestroyedOldConnections(onIgnored: (err: unknown) => void = () => {}): void {
  process.on('unhandledRejection', (err) => {
    if ((err as { code?: unknown }).code === 'CONNECTION_DESTROYED') {
      onIgnored(err);
      return;
    }
    throw err;
  });
}

/**
 * A postgres.js pool that can be swapped for one on a new URL without failing the queries already running on the
 * old one: new queries go to the new pool at once, the old pool ends when its queries are done. A query cut by
 * the session reset of a rotation is retried once, on the new pool (waiting a little for it to arrive).
 */
export class SwappablePool {
  private current: { sql: Sql; url: string; generation: number };
  private readonly waiters: Array<() => void> = [];

  constructor(
    url: string,
    private readonly options: { max?: number; waitForNewPoolMs?: number; resetDeadlineMs?: number } = {},
  ) {
    this.current = { sql: this.open(url), url, generation: 0 };
  }

  get url(): string {
    return this.current.url;
  }

  get generation(): number {
    return this.current.generation;
  }

  private open(url: string): Sql {
    return postgres(url, { max: this.options.max ?? 5, idle_timeout: 30, connect_timeout: 5, onnotice: () => {} });
  }

  /** Moves new queries to a pool on `url` once it answers; the old pool drains and ends. */
  async swap(url: string): Promise<boolean> {
    if (url === this.current.url) return false;
    const next = this.open(url);
    try {
      await next`select 1`;
    } catch (err) {
      await next.end({ timeout: 0 });
      throw err;
    }
    const previous = this.current;
    this.current = { sql: next, url, generation: previous.generation + 1 };
    for (const wake of this.waiters.splice(0)) wake();
    previous.sql.end({ timeout: OLD_POOL_GRACE_S }).catch(() => undefined);
    return true;
  }

  /**
   * Runs `query` on the current pool. A query that a rotation's reset cuts (its session ended, or a new connection
   * refused on the old password) waits for the pool on the new URL and runs again there; cut again by the next
   * rotation, it moves on to the pool after that, until `resetDeadlineMs` has passed since it was first cut (a rerun
   * still going then is given up: on a pool whose password is gone, postgres.js may never fail it).
   */
  async query<T>(query: (sql: Sql) => Promise<T>): Promise<{ result: T; retried: boolean; generation: number }> {
    let used = this.current;
    let cut: { error: Error; deadline: number } | undefined;
    for (;;) {
      try {
        const run = query(used.sql);
        const result = cut ? await settleBy(run, cut.deadline, cut.error) : await run;
        return { result, retried: cut !== undefined, generation: used.generation };
      } catch (err) {
        if (!cutByReset(err)) throw err;
        const deadline = cut?.deadline ?? Date.now() + (this.options.resetDeadlineMs ?? RESET_DEADLINE_MS);
        cut = { error: err instanceof Error ? err : new Error(String(err)), deadline };
        const left = deadline - Date.now();
        if (left <= 0) throw err;
        await this.newerThan(used.generation, Math.min(left, this.options.waitForNewPoolMs ?? WAIT_FOR_NEW_POOL_MS));
        used = this.current;
      }
    }
  }

  /** Resolves once a pool newer than `generation` is in place, or after `timeoutMs`. */
  private newerThan(generation: number, timeoutMs: number): Promise<void> {
    if (this.current.generation > generation) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    await this.current.sql.end({ timeout: 5 });
  }
}

/** `run`'s outcome, or `error` thrown at `deadline` if it has none by then (its outcome is then not heard). */
function settleBy<T>(run: Promise<T>, deadline: number, error: Error): Promise<T> {
  run.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(error), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([run, late]).finally(() => clearTimeout(timer));
}
