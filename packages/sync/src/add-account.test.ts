import { herokuAccounts } from '@hds/db';
import { waitForLockWaiters } from '@hds/testkit';
import { eq } from 'drizzle-orm';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { tokenContext } from './accounts.js';
import { useSimSync } from './test-support/sim-sync.js';

const t = useSimSync();

describe('adding one new Heroku account twice at once (issue 17, defect 4)', () => {
  it('stores a token that decrypts under the id the database kept', async () => {
    const simAccount = t.env.sim.createAccount({ email: 'twice@example.com' });
    // Both adds check the key with Heroku and look for the account before either writes: hold their writes
    // (a lock that lets reads through) until both are waiting, then let them race.
    const locker = postgres(t.database.url, { max: 1, onnotice: () => {} });
    let adds: ReturnType<typeof t.env.service.addAccount>[] = [];
    await locker.begin(async (tx) => {
      await tx`lock table heroku_accounts in exclusive mode`;
      adds = [1, 2].map(() => t.env.service.addAccount({ apiKey: simAccount.apiKey }));
      await waitForLockWaiters(tx, { count: 2, what: 'both adds to wait for the table lock' });
    });
    await locker.end();
    const [first, second] = await Promise.all(adds);
    expect(first!.account.id).toBe(second!.account.id);

    const rows = await t.database.client.db
      .select()
      .from(herokuAccounts)
      .where(eq(herokuAccounts.email, 'twice@example.com'));
    expect(rows).toHaveLength(1);
    const { id, accessTokenEncrypted } = rows[0]!;
    expect(t.env.service.ctx.keyring.decrypt(accessTokenEncrypted, tokenContext(id, 'access'))).toBe(simAccount.apiKey);
    expect(await t.env.service.listApps(id)).toEqual([]);
  });
});
