import { herokuAccounts, herokuLinks } from '@hds/db';
import { createTestDatabase, type TestDatabase } from '@hds/testkit';
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLS_PER_RECONCILE } from './reconcile.js';
import { seedLink, testService } from './test-support/fixtures.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

const secondsUntil = (date: Date) => (date.getTime() - Date.now()) / 1000;

describe('claimDueLinks', () => {
  it('books each account’s next checks so the reconciler spends at most its share of the hourly budget', async () => {
    const service = testService(database.client.db, {
      options: { reconcileBudgetShare: 0.1, accountHourlyBudget: 4500, reconcileMinIntervalMs: 1000 },
    });
    // One account with 30 links, one with a single link.
    const first = await seedLink(service);
    const others = await Promise.all(Array.from({ length: 29 }, () => seedLink(service)));
    await database.client.db
      .update(herokuLinks)
      .set({ accountId: first.accountId })
      .where(
        inArray(
          herokuLinks.id,
          others.map((o) => o.link.id),
        ),
      );
    const lone = await seedLink(service);

    const claimed = await service.claimDueLinks(100);
    expect(claimed).toHaveLength(31);
    expect(await service.claimDueLinks(100)).toEqual([]); // booked: not due again at once

    const rows = await database.client.db.select().from(herokuLinks);
    const busy = rows.filter((r) => r.accountId === first.accountId).map((r) => secondsUntil(r.nextReconcileAt));
    // 30 links · 2 calls / (10% of 4,500 an hour) = 480 s between checks of each link, ±10% jitter.
    const expected = (30 * CALLS_PER_RECONCILE * 3600) / 450;
    for (const s of busy) expect(s).toBeGreaterThan(expected * 0.88);
    for (const s of busy) expect(s).toBeLessThan(expected * 1.12);
    // Calls per hour for the busy account: within 10% of its budget.
    const perHour = busy.reduce((sum, s) => sum + (CALLS_PER_RECONCILE * 3600) / s, 0);
    expect(perHour).toBeLessThanOrEqual(450 * 1.12);
    // A single link is checked at the minimum interval's pace, not the budget's.
    const loneRow = rows.find((r) => r.id === lone.link.id)!;
    expect(secondsUntil(loneRow.nextReconcileAt)).toBeLessThan(16 * 1.12);
  });

  it('leaves alone an account at its rate limit or low on budget', async () => {
    const service = testService(database.client.db);
    const limited = await seedLink(service);
    const low = await seedLink(service);
    await database.client.db
      .update(herokuAccounts)
      .set({ rateLimitedUntil: sql`now() + interval '1 minute'` })
      .where(eq(herokuAccounts.id, limited.accountId));
    await database.client.db
      .update(herokuAccounts)
      .set({ rateLimitRemaining: 10, rateLimitSeenAt: sql`now()` })
      .where(eq(herokuAccounts.id, low.accountId));
    await database.client.db.update(herokuLinks).set({ nextReconcileAt: sql`now() - interval '1 second'` });
    const claimed = (await service.claimDueLinks(1000)).map((c) => c.linkId);
    expect(claimed).not.toContain(limited.link.id);
    expect(claimed).not.toContain(low.link.id);
  });
});

describe('claimDueSweeps', () => {
  // 10% of 4,500 calls an hour: 0.125 calls a second; the bucket holds a minute of it (7.5 calls), or a sweep.
  const options = { reconcileBudgetShare: 0.1, accountHourlyBudget: 4500, reconcileMinIntervalMs: 1000 };
  const claimed = async (service: ReturnType<typeof testService>, accountId: string) =>
    (await service.claimDueSweeps(1000)).some((c) => c.accountId === accountId);

  it('sweeps an account as often as its bucket allows: once the debt of the last sweep is repaid and its pages are back', async () => {
    const service = testService(database.client.db, { options });
    const { accountId } = await seedLink(service);
    expect(await claimed(service, accountId)).toBe(true);
    expect(await claimed(service, accountId)).toBe(false); // claimed: not again while it runs

    // A 10,000-app sweep ended a moment ago: 10 pages and 3 follow-ups (a lost delivery: newest releases, config,
    // webhook check), from a bucket that held 10. The next sweep needs its 10 pages back: 13 calls, 104 s; not the
    // 13 calls of the last sweep on top of its debt (16 calls, 128 s), which would count the follow-ups twice.
    const finish = (tokensAgoS: number) =>
      database.client.db
        .update(herokuAccounts)
        .set({
          sweepClaimedUntil: null,
          sweepTokens: -3,
          sweepTokensAt: sql`now() - ${tokensAgoS} * interval '1 second'`,
          lastSweepListCalls: 10,
          lastSweptAt: sql`now() - interval '5 seconds'`,
        })
        .where(eq(herokuAccounts.id, accountId));
    await finish(0);
    expect(await claimed(service, accountId)).toBe(false);
    await finish(100);
    expect(await claimed(service, accountId)).toBe(false);
    await finish(105);
    expect(await claimed(service, accountId)).toBe(true);
    const [row] = await database.client.db.select().from(herokuAccounts).where(eq(herokuAccounts.id, accountId));
    expect(row!.sweepTokens).toBeGreaterThanOrEqual(10);
    expect(row!.sweepTokens).toBeLessThan(10.5);

    // Idle for long, the bucket holds one sweep's pages (more than a minute of the share, 7.5 calls), no more.
    await finish(3600);
    expect(await claimed(service, accountId)).toBe(true);
    const [full] = await database.client.db.select().from(herokuAccounts).where(eq(herokuAccounts.id, accountId));
    expect(full!.sweepTokens).toBe(10);
  });

  it('never sweeps more often than the minimum interval, nor an account at its rate limit or low on budget', async () => {
    const service = testService(database.client.db, { options: { ...options, reconcileMinIntervalMs: 60_000 } });
    const recent = await seedLink(service);
    const limited = await seedLink(service);
    const low = await seedLink(service);
    await database.client.db
      .update(herokuAccounts)
      .set({ lastSweptAt: sql`now() - interval '30 seconds'` })
      .where(eq(herokuAccounts.id, recent.accountId));
    await database.client.db
      .update(herokuAccounts)
      .set({ rateLimitedUntil: sql`now() + interval '1 minute'` })
      .where(eq(herokuAccounts.id, limited.accountId));
    await database.client.db
      .update(herokuAccounts)
      .set({ rateLimitRemaining: 10, rateLimitSeenAt: sql`now()` })
      .where(eq(herokuAccounts.id, low.accountId));
    const due = (await service.claimDueSweeps(1000)).map((c) => c.accountId);
    expect(due).not.toContain(recent.accountId);
    expect(due).not.toContain(limited.accountId);
    expect(due).not.toContain(low.accountId);
  });
});
