// The person revokes the service's Heroku authorization: the next rotation's fetch gets 401, the one token refresh
// is refused too, and the link goes to `needs_reauth` and says so (admin API status, audit log), without touching
// the env var. Signing in again re-arms the link and the missed rotation is applied.
import type { AdminAuditEntry, SimAccount, Stack } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { appName, eventually, useStack } from '../support/use-stack.js';
import { signInWithHeroku } from './support/oauth-sign-in.js';

// No scheduled reconcile: the webhook's job alone must find out that the authorization is gone.
const stack = useStack({ namePrefix: 'hds_oauthfault', workerEnv: { RECONCILE_TICK_MS: '3600000' } });

const revokeTokens = (s: Stack, account: SimAccount) =>
  s.sim.http.expect<{ revoked: number }>('POST', `/_sim/accounts/${account.id}/revoke-tokens`, {
    status: 200,
    body: {},
  });

const stateChanges = (entries: AdminAuditEntry[]) => entries.filter((e) => e.action === 'state_changed');

describe('the OAuth authorization revoked', () => {
  it('marks the link needs_reauth with an error that says to sign in again; a new sign-in re-arms it', async () => {
    const s = stack();
    const person = await s.sim.createAccount({ email: 'revoker@example.com' });
    const app = await s.sim.createApp({ name: appName('revoked'), accountId: person.id });
    const accountId = await signInWithHeroku(s, person);
    const project = await s.admin.createProject({ name: app.name, heroku: { accountId, app: app.name } });

    // The OAuth token works: a rotation is applied.
    const working = await s.sim.rotateCredentials(app.name);
    await eventually('the rotation before the revocation', async () => {
      return (await s.admin.envValue(project.id)) === working.databaseUrl;
    });

    expect((await revokeTokens(s, person)).revoked).toBeGreaterThan(0);
    const missed = await s.sim.rotateCredentials(app.name);
    const status = await eventually('the link to need a new sign-in', async () => {
      const current = await s.admin.syncStatus(project.id);
      return current.state === 'needs_reauth' && current;
    });
    expect(status).toMatchObject({
      enabled: true,
      lastReleaseVersion: working.version,
      lastError: expect.stringMatching(/no longer accepts this account.s credentials: sign in with Heroku again/),
    });
    expect(await s.admin.envValue(project.id)).toBe(working.databaseUrl);
    expect(stateChanges(await s.admin.audit(project.id))[0]).toMatchObject({
      actor: 'webhook',
      detail: expect.objectContaining({ from: 'active', to: 'needs_reauth', error: status.lastError }),
    });

    // What Heroku saw refused: the release's config fetch, then the one refresh with the revoked refresh token;
    // nothing retried after that.
    const refused = await s.sim.requests({ status: '401' });
    expect(refused.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /apps/${app.id}/releases/${missed.version}/config-vars`,
      'POST /oauth/token',
    ]);

    // A new sign-in re-arms the link, and the rotation it missed is applied.
    await signInWithHeroku(s, person);
    await eventually('the link to recover after the new sign-in', async () => {
      const current = await s.admin.syncStatus(project.id);
      return current.state === 'active' && current.lastReleaseVersion === missed.version;
    });
    expect(await s.admin.envValue(project.id)).toBe(missed.databaseUrl);
    expect((await s.admin.syncStatus(project.id)).lastError).toBeNull();
  });
});
