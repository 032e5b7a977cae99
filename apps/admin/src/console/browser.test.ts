import { join } from 'node:path';
import { chromiumLaunchOptions, screenshotDirectory } from '@hds/testkit';
import type { Pipeline } from '@hds/testkit/pipeline';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsolePipeline, type ConsolePipeline } from '../test-support/console-pipeline.js';
import { ADMIN_TOKEN, type AdminHarness } from '../test-support/harness.js';

/** docs/screenshots/ with `npm run screenshots -w @hds/admin`, a temporary directory otherwise. */
const screenshotDir = screenshotDirectory();
const screenshots = screenshotDir.path;

let service: ConsolePipeline;
let pipeline: Pipeline;
let admin: AdminHarness;
let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch(chromiumLaunchOptions);
  service = await startConsolePipeline();
  ({ pipeline, admin } = service);
});
afterAll(async () => {
  await browser?.close();
  await service?.close();
  screenshotDir.cleanup();
});

/** Credential rotations the open page is timed on. */
const ROTATIONS = 5;

const shot = (page: Page, name: string) => page.screenshot({ path: join(screenshots, name), fullPage: true });
const text = async (page: Page, selector: string) =>
  ((await page.locator(selector).first().textContent()) ?? '').trim();

describe('the console in a browser', () => {
  it('signs in with Heroku, enables the sync, follows credential rotations live, and opts out', async () => {
    const { sim, simUrl } = pipeline;
    const developer = sim.createAccount({ email: 'developer@example.com' });
    const app = sim.createApp({ name: 'sushi-prod', accountId: developer.id });
    sim.createApp({ name: 'sushi-staging', accountId: developer.id });

    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: ADMIN_TOKEN },
      viewport: { width: 1280, height: 860 },
    });
    const page = await context.newPage();

    // A new project.
    await page.goto(`${admin.url}/`);
    await page.getByLabel('Name').fill('sushi-shop');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
    const projectId = new URL(page.url()).pathname.split('/').pop()!;
    expect(await text(page, 'h1')).toBe('sushi-shop');
    await shot(page, '01-project.png');

    // Sign in with Heroku (heroku-sim's authorize page), and come back to the project with the app list.
    await page.getByRole('link', { name: 'Sign in with Heroku' }).click();
    await page.waitForURL(`${simUrl}/oauth/authorize?**`);
    await shot(page, '02-heroku-authorize.png');
    await page.getByRole('button', { name: 'Allow as developer@example.com' }).click();
    await page.waitForURL(new RegExp(`/projects/${projectId}\\?account=`));
    expect(await text(page, '.flash')).toBe('Signed in to Heroku as developer@example.com.');
    expect(await page.locator('select[name=app] option').allTextContents()).toEqual(['sushi-prod', 'sushi-staging']);
    await shot(page, '03-pick-app.png');

    // Enable: the current DATABASE_URL is applied before the page comes back.
    await page.locator('select[name=app]').selectOption({ label: 'sushi-prod' });
    await page.getByRole('button', { name: 'Enable sync' }).click();
    await page.waitForURL(new RegExp(`/projects/${projectId}#sync$`));
    expect(await text(page, '.flash')).toBe(
      'Sync enabled for sushi-prod: HASURA_GRAPHQL_DATABASE_URL is up to date at release v1.',
    );
    expect(await page.locator('[data-testid=sync-status] .badge').getAttribute('data-state')).toBe('active');
    const envRow = '[data-var=HASURA_GRAPHQL_DATABASE_URL]';
    const masked = await text(page, `${envRow} [data-testid=env-value]`);
    expect(masked).toMatch(/^postgres:\/\/[^:]+:\*\*\*\*@/);
    expect(await page.content()).not.toContain(app.databaseUrl);
    const fingerprintBefore = await text(page, `${envRow} [data-testid=fingerprint]`);
    // The page follows changes by itself: its event stream is open (console.js says so on <main>).
    await page.locator('main[data-live-state=live]').waitFor();
    expect(await text(page, '[data-testid=live]')).toBe('Live');
    await shot(page, '04-sync-enabled.png');

    // Heroku rotates the credentials (through /_sim/): webhook → ingress → queue → worker → Postgres → pg_notify →
    // server-sent event → the open page fetches itself and swaps what changed. No reload. Several rotations, each
    // timed from asking heroku-sim for it to the page showing its release and the new value's fingerprint.
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const shownAfterMs: number[] = [];
    let fingerprint = fingerprintBefore;
    let rotated = { version: 1, databaseUrl: '' };
    for (let i = 0; i < ROTATIONS; i += 1) {
      const started = performance.now();
      const rotation = await fetch(`${simUrl}/_sim/apps/sushi-prod/rotate-credentials`, { method: 'POST' });
      expect(rotation.ok).toBe(true);
      rotated = (await rotation.json()) as { version: number; databaseUrl: string };
      await page.locator('[data-testid=sync-release]', { hasText: `v${rotated.version}` }).waitFor({ timeout: 10_000 });
      await page
        .locator(`${envRow} [data-testid=fingerprint]`)
        .filter({ hasNotText: fingerprint })
        .waitFor({ timeout: 10_000 });
      shownAfterMs.push(Math.round(performance.now() - started));
      fingerprint = await text(page, `${envRow} [data-testid=fingerprint]`);
    }
    expect(rotated.version).toBe(1 + ROTATIONS);
    expect(navigations).toEqual([]);
    const sorted = [...shownAfterMs].sort((a, b) => a - b);
    const p50 = sorted[Math.floor((sorted.length - 1) / 2)]!;
    const max = sorted[sorted.length - 1]!;
    console.log(
      `the open page showed each of ${ROTATIONS} rotations without a reload, ms after it was asked for: ` +
        `${shownAfterMs.join(', ')} (p50 ${p50}, max ${max})`,
    );
    // Generous (the README says within a second; this machine may be busy with other tests): it must not flake.
    expect(max).toBeLessThan(5_000);
    // Only the password changed, so the masked form is the same; the fingerprint and the audit row tell.
    expect(await text(page, `${envRow} [data-testid=env-value]`)).toBe(masked);
    const newest = page.locator('[data-testid=audit] tbody tr').first();
    await page
      .locator('[data-testid=audit] tbody tr[data-action=env_synced]', { hasText: `v${rotated.version}` })
      .waitFor();
    expect(await newest.getAttribute('data-action')).toBe('env_synced');
    expect(await newest.textContent()).toContain('webhook');
    const revealed = await admin.api('GET', `/api/projects/${projectId}/env?reveal=true`);
    expect(revealed.json.vars[0].value).toBe(rotated.databaseUrl);
    expect(await page.content()).not.toContain(rotated.databaseUrl);
    await shot(page, '05-after-rotation.png');

    // Opt out, after a confirmation step: the webhook goes (with its own audit row), the env var stays.
    await page.getByRole('link', { name: 'Opt out of the sync' }).click();
    await page.waitForURL(new RegExp(`/projects/${projectId}/sync/opt-out$`));
    expect(await text(page, 'h1')).toBe('Opt out of the sync?');
    await page.getByRole('button', { name: 'Yes, opt out' }).click();
    await page.waitForURL(new RegExp(`/projects/${projectId}#sync$`));
    expect(await text(page, '.flash')).toBe(
      'The sync is off and its Heroku webhook deleted. The env vars keep their values.',
    );
    expect(await page.locator('[data-testid=audit] tbody tr').nth(0).getAttribute('data-action')).toBe('sync_disabled');
    expect(await page.locator('[data-testid=audit] tbody tr').nth(1).getAttribute('data-action')).toBe(
      'webhook_deleted',
    );
    expect(await text(page, `${envRow} [data-testid=fingerprint]`)).not.toBe(fingerprintBefore);
    expect(sim.webhooks({ app: app.name })).toEqual([]);
    await shot(page, '06-opted-out.png');

    // The queues behind it, in Bull Board.
    await page.goto(`${admin.url}/admin/queues/queue/heroku-events?status=completed`);
    await page.getByText('release-event').first().waitFor();
    await shot(page, '07-bull-board.png');

    // The API reference, rendered from the OpenAPI document.
    await page.goto(`${admin.url}/api-reference`);
    await page.locator('[data-operation="PUT /api/projects/{id}/heroku-sync"]').waitFor();
    await page.screenshot({ path: join(screenshots, '08-api-reference.png') }); // its top: the page is long
    await context.close();
  });
});
