// A sweep that fails half-way still pays for the calls it made: they come out of the account's reconciler bucket.
import { herokuAccounts } from '@hds/db';
import { waitForLockWaiters } from '@hds/testkit';
import { eq } from 'drizzle-orm';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { useSimSync } from './test-support/sim-sync.js';

const t = useSimSync();

describe('a sweep that throws', () => {
  it('takes the calls it made before the throw from the account’s reconciler bucket', async () => {
    const { accountId, simAccountId, apps } = await t.env.account(1);
    const app = apps[0]!;
    const project = await t.env.service.createProject({ name: 'half-swept', heroku: { accountId, app: app.name } });
    const linkId = project.sync.linkId!;
    t.env.sim.deleteApp({ app: app.name }); // the list lacks it; GET /apps/{id} says 404: the link goes app_missing
    t.env.sim.clearRequests();
    const { ctx } = t.env.service;
    const full =
      (ctx.options.reconcileBudgetShare * ctx.options.accountHourlyBudget * ctx.options.reconcileBucketMs) /
      3600 /
      1000;

    // Another session holds the link's row: the sweep's write of the new state waits for it, and its connection
    // is then cut (a database lost mid-sweep), after both calls were made.
    const holder = postgres(t.database.url, { max: 1, onnotice: () => {} });
    const reserved = await holder.reserve();
    try {
      await reserved`begin`;
      await reserved`select 1 from heroku_links where id = ${linkId} for update`;
      const sweeping = t.env.service.sweepAccount(accountId, 'half-swept').then(
        () => undefined,
        (err: unknown) => err,
      );
      const [blocked] = await waitForLockWaiters(reserved, { what: 'the sweep waiting for the link row' });
      await reserved`select pg_terminate_backend(${blocked!})`;
      expect(await sweeping).toBeInstanceOf(Error);
    } finally {
      await reserved`rollback`;
      reserved.release();
      await holder.end();
    }

    const calls = t.env.sim.requests({ accountId: simAccountId });
    expect(calls.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /apps 200', `GET /apps/${app.id} 404`]);
    const [account] = await t.database.client.db
      .select({ tokens: herokuAccounts.sweepTokens, claimed: herokuAccounts.sweepClaimedUntil })
      .from(herokuAccounts)
      .where(eq(herokuAccounts.id, accountId));
    expect(account).toEqual({ tokens: full - 2, claimed: null });
  });
});
