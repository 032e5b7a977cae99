// A worker's call is refused (401) with the account's old credential while the owner gives it a new one. A CI run
// hit the race: the worker looked for a new credential, found none, the owner's sign-in stored one and re-armed
// the link, and then the worker marked the link `needs_reauth`, for good. `needs_reauth` is now recorded only
// while the refused credential is still the stored one, under a lock that a sign-in being stored waits for.
import { isHerokuApiError } from '@hds/heroku';
import { waitForLockWaiters } from '@hds/testkit';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { AccountCredentials, tokenContext } from './accounts.js';
import { judgeFailure } from './failures.js';
import { useSimSync } from './test-support/sim-sync.js';

const t = useSimSync();

async function linkedProject() {
  const { accountId, simAccountId, apps } = await t.env.account(1);
  const app = apps[0]!;
  const project = await t.env.service.createProject({ name: 'refused', heroku: { accountId, app: app.name } });
  const { ctx } = t.env.service;
  // Another process's credentials (its own cache), as a worker has.
  const worker = new AccountCredentials(ctx);
  return {
    ctx,
    accountId,
    linkId: project.sync.linkId!,
    /** The owner gets a new API key; the old one stops working. */
    newKey: () => t.env.sim.revokeTokens({ accountId: simAccountId, apiKey: true }).apiKey!,
    /** A call of the worker's that Heroku refuses (no new credential was there to retry with). */
    refusedCall: async () => {
      const error = await worker
        .client(accountId)
        .getApp(app.id)
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(isHerokuApiError(error, 'unauthorized')).toBe(true);
      return error;
    },
    judge: (error: unknown) =>
      judgeFailure(ctx, worker, { linkId: project.sync.linkId!, appId: app.id, accountId, error, actor: 'webhook' }),
    state: async () => (await t.env.service.getSyncStatus(project.id)).state,
  };
}

describe('a 401 judged while the account gets a new credential', () => {
  it('asks for a retry when a new credential was stored after the call was refused', async () => {
    const l = await linkedProject();
    const key = l.newKey();
    const error = await l.refusedCall();
    await t.env.service.addAccount({ apiKey: key });
    expect(await l.judge(error)).toMatchObject({ kind: 'transient' });
    expect(await l.state()).toBe('active');
  });

  it('waits for a credential being stored, then asks for a retry instead of marking the link needs_reauth', async () => {
    const l = await linkedProject();
    const key = l.newKey();
    const error = await l.refusedCall();
    // What storing a sign-in does (AccountCredentials.add), held open while the 401 is judged.
    const storing = postgres(t.database.url, { max: 1, onnotice: () => {} });
    let judged: ReturnType<typeof l.judge> | undefined;
    await storing.begin(async (tx) => {
      const sealed = l.ctx.keyring.encrypt(key, tokenContext(l.accountId, 'access'));
      await tx`update heroku_accounts set access_token_encrypted = ${sealed}, token_generation = token_generation + 1,
        updated_at = now() where id = ${l.accountId}`;
      judged = l.judge(error);
      await waitForLockWaiters(tx, { what: 'the judging to wait for the credential being stored' });
    });
    await storing.end();
    expect(await judged).toMatchObject({ kind: 'transient' });
    expect(await l.state()).toBe('active');
  });

  it('marks the link needs_reauth while the refused credential is the stored one; a new sign-in re-arms it', async () => {
    const l = await linkedProject();
    const key = l.newKey();
    const error = await l.refusedCall();
    expect(await l.judge(error)).toMatchObject({ kind: 'permanent', state: 'needs_reauth' });
    expect(await l.state()).toBe('needs_reauth');
    expect((await t.env.service.addAccount({ apiKey: key })).rearmedLinks).toEqual([l.linkId]);
    expect(await l.state()).toBe('active');
  });
});
