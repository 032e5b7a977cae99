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

/** Attempts of one query across resets: the first, its retry on the new pool, and one more if that was cut too. */
const RESET_ATTEMPTS = 3;

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
    private readonly options: { max?: number; waitForNewPoolMs?: number } = {},
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
    // Queries still running on the old pool get 30 s to finish.
    previous.sql.end({ timeout: 30 }).catch(() => undefined);
    return true;
  }

  /**
   * Runs `query` on the current pool; once more on a newer pool if a rotation's reset cut it. A retry that the next
   * rotation's reset cuts as well (rotations close together) moves on to the pool after that, up to
   * `RESET_ATTEMPTS` attempts in all.
   */
  async query<T>(query: (sql: Sql) => Promise<T>): Promise<{ result: T; retried: boolean; generation: number }> {
    let used = this.current;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return { result: await query(used.sql), retried: attempt > 1, generation: used.generation };
      } catch (err) {
        if (!cutByReset(err) || attempt >= RESET_ATTEMPTS) throw err;
        await this.newerThan(used.generation);
        used = this.current;
      }
    }
  }

  /** Resolves once a pool newer than `generation` is in place (or after `waitForNewPoolMs`). */
  private newerThan(generation: number): Promise<void> {
    if (this.current.generation > generation) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.options.waitForNewPoolMs ?? 10_000);
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
