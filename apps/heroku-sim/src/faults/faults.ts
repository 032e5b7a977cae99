import { z } from 'zod';
import type { Random } from '../support/prng.js';

/**
 * Which requests or deliveries a fault hits: a share of them (`rate`, drawn from the seeded PRNG) or the next
 * `next` of them; optionally only those of one app (by name or id) or account.
 */
const selectorShape = {
  rate: z.number().min(0).max(1).optional(),
  next: z.number().int().min(0).optional(),
  app: z.string().min(1).optional(),
};

function selector<T extends z.ZodRawShape>(extra: T) {
  return z
    .object({ ...selectorShape, ...extra })
    .strict()
    .refine(
      (s) => {
        const { rate, next } = s as { rate?: unknown; next?: unknown };
        return (rate === undefined) !== (next === undefined);
      },
      { message: 'give exactly one of rate and next' },
    );
}

export const faultsSchema = z
  .object({
    api: z
      .object({
        /** Added before every Platform API answer. */
        latencyMs: z.number().int().min(0).max(60_000).optional(),
        /** Answers with a 5xx instead of doing the work (after authentication and rate limiting). */
        errors: selector({
          status: z.number().int().min(500).max(599).default(503),
          accountId: z.string().optional(),
        }).optional(),
        /** Answers 429 `rate_limit` regardless of the account's budget. */
        rateLimited: selector({ accountId: z.string().optional() }).optional(),
        /**
         * Apps (name or id) left out of `GET /apps` and `GET /users/{user}/apps` (of one account, or of every one)
         * while every other route still answers for them: an account that can no longer list an app it still reaches.
         */
        unlisted: z
          .array(z.object({ app: z.string().min(1), accountId: z.string().min(1).optional() }).strict())
          .max(1000)
          .optional(),
      })
      .strict()
      .optional(),
    /** Sets an account's token bucket now: its remaining tokens, and optionally its capacity and refill. */
    budgets: z
      .array(
        z
          .object({
            accountId: z.string().min(1),
            remaining: z.number().int().min(0).optional(),
            capacity: z.number().int().min(1).optional(),
            refillPerMinute: z.number().min(0).optional(),
          })
          .strict(),
      )
      .optional(),
    deliveries: z
      .object({
        /** Never sent at all (a lost webhook); not retried. */
        drop: selector({}).optional(),
        /** Sent twice, byte for byte. */
        duplicate: selector({}).optional(),
        /** Sent `ms` later than it would have been; later deliveries may overtake it. */
        delay: selector({ ms: z.number().int().min(0).max(600_000) }).optional(),
        /** Held back; once `batch` are held they are sent newest first. `releaseHeldDeliveries()` sends them too. */
        reorder: selector({ batch: z.number().int().min(2).max(100).default(2) }).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type FaultsInput = z.input<typeof faultsSchema>;
export type Faults = z.output<typeof faultsSchema>;

interface Selector {
  rate?: number | undefined;
  next?: number | undefined;
  app?: string | undefined;
  accountId?: string | undefined;
}

/** What the fault applies to: every identifier of the app (name, id, the path segment) and the account. */
export interface FaultContext {
  appKeys?: readonly string[];
  accountId?: string;
}

export interface DeliveryFaults {
  drop: boolean;
  duplicate: boolean;
  delayMs: number | undefined;
  holdBatch: number | undefined;
}

/** The faults in force, with the counters of `next` selectors. Replaced as a whole by `set`. */
export class FaultState {
  private faults: Faults = {};
  private remaining = new Map<Selector, number>();

  constructor(private readonly random: Random) {}

  set(faults: Faults): void {
    this.faults = faults;
    this.remaining = new Map();
  }

  clear(): void {
    this.set({});
  }

  current(): Faults {
    return this.faults;
  }

  apiLatencyMs(): number {
    return this.faults.api?.latencyMs ?? 0;
  }

  /** The 5xx status to answer with, if this request is hit. */
  apiError(context: FaultContext): number | undefined {
    const errors = this.faults.api?.errors;
    return errors && this.hits(errors, context) ? errors.status : undefined;
  }

  apiRateLimited(context: FaultContext): boolean {
    const limited = this.faults.api?.rateLimited;
    return limited !== undefined && this.hits(limited, context);
  }

  /** Whether an app is left out of the account's app list. */
  unlisted(context: Required<FaultContext>): boolean {
    return (this.faults.api?.unlisted ?? []).some(
      (u) => context.appKeys.includes(u.app) && (u.accountId === undefined || u.accountId === context.accountId),
    );
  }

  delivery(context: FaultContext): DeliveryFaults {
    const d = this.faults.deliveries;
    const drop = d?.drop !== undefined && this.hits(d.drop, context);
    if (drop) return { drop, duplicate: false, delayMs: undefined, holdBatch: undefined };
    return {
      drop,
      duplicate: d?.duplicate !== undefined && this.hits(d.duplicate, context),
      delayMs: d?.delay !== undefined && this.hits(d.delay, context) ? d.delay.ms : undefined,
      holdBatch: d?.reorder !== undefined && this.hits(d.reorder, context) ? d.reorder.batch : undefined,
    };
  }

  /** Whether `selector` hits this request; counts down `next` and draws from the PRNG for `rate`. */
  private hits(selector: Selector, context: FaultContext): boolean {
    if (selector.app !== undefined && !(context.appKeys ?? []).includes(selector.app)) return false;
    if (selector.accountId !== undefined && selector.accountId !== context.accountId) return false;
    if (selector.next !== undefined) {
      const left = this.remaining.get(selector) ?? selector.next;
      if (left <= 0) return false;
      this.remaining.set(selector, left - 1);
      return true;
    }
    return this.random() < (selector.rate ?? 0);
  }
}
