import { createHerokuSim, type HerokuSim, type SimAccount, type SimServer } from '@hds/heroku-sim';
import { queueNames } from '@hds/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient } from '../test-support/browser-client.js';
import { startAdmin, type AdminHarness } from '../test-support/harness.js';

let sim: HerokuSim;
let simServer: SimServer;
let admin: AdminHarness;
let owner: SimAccount;

beforeAll(async () => {
  sim = createHerokuSim();
  simServer = await sim.listen();
  owner = sim.createAccount({ email: 'keyholder@example.com' });
  sim.createApp({ name: 'console-app-b', accountId: owner.id });
  sim.createApp({ name: 'console-app-a', accountId: owner.id });
  admin = await startAdmin({ herokuApiUrl: simServer.url });
});
afterAll(async () => {
  await admin.close();
  await sim.close();
});

describe('console sync flow with an API key', () => {
  it('adds an API key, picks an app, enables, checks now, shows errors, and opts out', async () => {
    const project = await admin.createProject({ name: 'console-sync' });
    const browser = new ConsoleClient(admin.url);
    const csrf = async (path: string) => ConsoleClient.csrfToken((await browser.get(path)).text);
    const projectPath = `/projects/${project.id}`;

    // A key Heroku refuses comes back as a message on the project page.
    const refused = await browser.post('/accounts', {
      apiKey: 'wrong-key',
      project: project.id,
      _csrf: await csrf(projectPath),
    });
    expect(refused.headers.get('location')).toBe(`${projectPath}#sync`);
    expect((await browser.get(projectPath)).text).toContain('Heroku did not accept this credential');

    // A good key: back to the project with the account's apps to pick from, sorted by name.
    const added = await browser.post('/accounts', {
      apiKey: owner.apiKey,
      project: project.id,
      _csrf: await csrf(projectPath),
    });
    const pickPath = added.headers.get('location')!;
    expect(pickPath).toMatch(new RegExp(`^${projectPath}\\?account=[0-9a-f-]{36}#sync$`));
    const pick = await browser.get(pickPath);
    expect(pick.text).toContain('Heroku account keyholder@example.com connected.');
    const options = [...pick.text.matchAll(/<option value="([^"]+)">([^<]+)<\/option>/g)];
    expect(options.map((m) => m[2])).toEqual(['console-app-a', 'console-app-b']);
    const accountId = new URL(pickPath, admin.url).searchParams.get('account')!;

    // Enable with an app the account cannot see (a forged form): a message, nothing enabled.
    const notVisible = await browser.post(`${projectPath}/sync`, {
      accountId,
      app: 'someone-elses-app',
      target: 'HASURA_GRAPHQL_DATABASE_URL',
      _csrf: ConsoleClient.csrfToken(pick.text),
    });
    expect(notVisible.status).toBe(303);
    // Back to the picker of the same account, so another app can be picked at once.
    expect(notVisible.headers.get('location')).toBe(`${projectPath}?account=${accountId}#repick`);
    const again = await browser.get(notVisible.headers.get('location')!);
    expect(again.text).toContain('the Heroku account cannot see an app called');
    expect(again.text).toContain('<select name="app" required>');
    expect((await admin.api('GET', `/api/projects/${project.id}/heroku-sync`)).json.enabled).toBe(false);

    // Enable console-app-a into a custom env var.
    const enabled = await browser.post(`${projectPath}/sync`, {
      accountId,
      app: options[0]![1]!,
      target: 'DB_URL',
      _csrf: await csrf(projectPath),
    });
    expect(enabled.headers.get('location')).toBe(`${projectPath}#sync`);
    const page = await browser.get(projectPath);
    expect(page.text).toContain('Sync enabled for console-app-a: DB_URL is up to date at release v1.');
    expect(page.text).toContain('data-state="active"');
    expect(page.text).toMatch(/data-var="DB_URL"/);

    // Check now queues a manual reconcile.
    await browser.post(`${projectPath}/sync/reconcile`, { _csrf: ConsoleClient.csrfToken(page.text) });
    expect((await browser.get(projectPath)).text).toContain('Check queued');
    const jobs = await admin.producer.queue(queueNames.reconcile).getJobs(['waiting']);
    expect(jobs.map((j) => j.data as unknown)).toContainEqual({ linkId: expect.any(String), reason: 'manual' });

    // A failing sync shows its state and last error.
    await admin.sync.markLinkFailing(
      (await admin.api('GET', `/api/projects/${project.id}/heroku-sync`)).json.linkId as string,
      'gave up after 6 attempts: Heroku GET /apps/{app}/releases failed: 503',
    );
    const failing = await browser.get(projectPath);
    expect(failing.text).toContain('data-state="error"');
    expect(failing.text).toContain('gave up after 6 attempts');

    // Opt out while Heroku does not answer: off anyway, and the page says the webhook is left for later.
    sim.setFaults({ api: { errors: { rate: 1, status: 503 } } });
    // Opting out takes a confirmation step: the button leads to it, a post without it goes there.
    expect(failing.text).toContain(`href="${projectPath}/sync/opt-out"`);
    const unconfirmed = await browser.post(`${projectPath}/sync/disable`, {
      _csrf: ConsoleClient.csrfToken(failing.text),
    });
    expect(unconfirmed.headers.get('location')).toBe(`${projectPath}/sync/opt-out`);
    const confirm = await browser.get(`${projectPath}/sync/opt-out`);
    expect(confirm.text).toContain('Opt out of the sync?');
    expect((await admin.api('GET', `/api/projects/${project.id}/heroku-sync`)).json.enabled).toBe(true);
    await browser.post(`${projectPath}/sync/disable`, { _csrf: ConsoleClient.csrfToken(confirm.text), confirm: 'yes' });
    sim.clearFaults();
    const off = await browser.get(projectPath);
    expect(off.text).toContain('The sync is off. Heroku did not answer, so its webhook will be deleted later.');
    expect(off.text).toContain('data-action="webhook_delete_failed"');
    expect(off.text).toContain('The sync with <span class="mono">console-app-a</span> is off.');
    expect(off.text).toMatch(/data-var="DB_URL"/);
  });
});
