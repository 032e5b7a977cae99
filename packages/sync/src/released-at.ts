import { herokuLinks, type DbOrTx } from '@hds/db';
import { and, eq, sql } from 'drizzle-orm';

/** How far Heroku's clock and ours may disagree. */
const CLOCK_SLACK_MS = 2000;
/** Heroku's `released_at` names a second: a release shown at `R` happened in [R, R + 1 s). */
const RELEASED_AT_PRECISION_MS = 1000;

/**
 * Whether an app shown with `releasedAt` may have released since its link was last found caught up (`seen`;
 * null: never, as far as we know).
 */
export function releasedSince(releasedAt: Date, seen: Date | null): boolean {
  return seen === null || releasedAt.getTime() + RELEASED_AT_PRECISION_MS > seen.getTime();
}

/**
 * A look at the app's newest releases that began at `lookedAt` found the link caught up (or applied the newest):
 * every release before then is accounted for. The link remembers that moment (less the clocks' slack), for the
 * sweep to compare the app's `released_at` with. Only while the link is on `appId`.
 */
export async function noteCaughtUp(db: DbOrTx, options: { linkId: string; appId: string; lookedAt: Date }) {
  const seen = new Date(options.lookedAt.getTime() - CLOCK_SLACK_MS).toISOString();
  await db
    .update(herokuLinks)
    .set({ releasedAtSeen: sql`greatest(${herokuLinks.releasedAtSeen}, ${seen}::timestamptz)` })
    .where(and(eq(herokuLinks.id, options.linkId), eq(herokuLinks.appId, options.appId)));
}
