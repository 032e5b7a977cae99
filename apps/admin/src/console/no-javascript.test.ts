// The console keeps working without JavaScript: in Chromium with JavaScript off, the project page's main flow goes
// through its forms (create a project, add an API key, enable the sync, check now, opt out with its confirmation),
// and the page, which cannot follow changes by itself then, says to reload and shows them when reloaded.
import { chromiumLaunchOptions } from '@hds/testkit';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsolePipeline, type ConsolePipeline } from '../test-support/console-pipeline.js';
import { ADMIN_TOKEN } from '../test-support/harness.js';

let service: ConsolePipeline;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  browser = await chromium.launch(chromiumLaunchOptions);
  service = await startConsolePipeline();
  context = await browser.newContext({
    javaScriptEnabled: false,
    httpCredentials: { username: 'admin', password: ADMIN_TOKEN },
  });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await service?.close();
});

const text = async (page: Page, selector: string) =>
  ((await page.locator(selector).first().textContent()) ?? '').trim();
const envRow = '[data-var=HASURA_GRAPHQL_DATABASE_URL]';

describe('the console without JavaScript', () => {
  it('creates a project, enables the sync, shows a rotation on reload, and opts out, all through forms', async () => {
    const { pipeline, admin } = service;
    const owner = pipeline.sim.createAccount({ email: 'nojs@example.com' });
    pipeline.sim.createApp({ name: 'nojs-prod', accountId: owner.id });
    const page = await context.newPage();
    const scripts: string[] = [];
    page.on('request', (request) => {
      if (request.resourceType() === 'script' || request.url().endsWith('/events')) scripts.push(request.url());
    });

    await page.goto(`${admin.url}/`);
    await page.getByLabel('Name').fill('no-script-shop');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
    const projectId = new URL(page.url()).pathname.split('/').pop()!;
    // The page cannot follow changes by itself: it says so, with a link that reloads it; no live indicator.
    const reload = page.getByRole('link', { name: 'Reload to see changes' });
    expect(await reload.isVisible()).toBe(true);
    expect(await reload.getAttribute('href')).toBe(`/projects/${projectId}`);
    expect(await page.locator('[data-testid=live]').isVisible()).toBe(false);

    // An API key (its form folds out of a <details>, which needs no script), then the account's apps.
    await page.getByText('Add an API key instead').click();
    await page.getByLabel('Heroku API key').fill(owner.apiKey);
    await page.getByRole('button', { name: 'Add API key' }).click();
    await page.waitForURL(new RegExp(`/projects/${projectId}\\?account=`));
    expect(await text(page, '.flash')).toBe('Heroku account nojs@example.com connected.');
    await page.locator('select[name=app]').selectOption({ label: 'nojs-prod' });
    await page.getByRole('button', { name: 'Enable sync' }).click();
    await page.waitForURL(new RegExp(`/projects/${projectId}#sync$`));
    expect(await text(page, '.flash')).toBe(
      'Sync enabled for nojs-prod: HASURA_GRAPHQL_DATABASE_URL is up to date at release v1.',
    );
    expect(await page.locator('[data-testid=sync-status] .badge').getAttribute('data-state')).toBe('active');
    const fingerprint = await text(page, `${envRow} [data-testid=fingerprint]`);

    // A rotation is applied by the worker; the open page stays as it was until the link reloads it.
    const committed = pipeline.nextEnvChange(projectId);
    const rotation = await fetch(`${pipeline.simUrl}/_sim/apps/nojs-prod/rotate-credentials`, { method: 'POST' });
    const rotated = (await rotation.json()) as { version: number };
    await committed;
    await pipeline.waitForVersion(projectId, rotated.version);
    expect(await text(page, '[data-testid=sync-release]')).toBe('v1');
    await reload.click();
    await page.waitForURL(`${admin.url}/projects/${projectId}`);
    expect(await text(page, '[data-testid=sync-release]')).toBe(`v${rotated.version}`);
    expect(await text(page, `${envRow} [data-testid=fingerprint]`)).not.toBe(fingerprint);

    // Check now, then opt out through its confirmation page.
    await page.getByRole('button', { name: 'Check now' }).click();
    await page.waitForURL(new RegExp(`/projects/${projectId}#sync$`));
    expect(await text(page, '.flash')).toBe('Check queued: the worker compares the app with Heroku now.');
    await page.getByRole('link', { name: 'Opt out of the sync' }).click();
    await page.waitForURL(new RegExp(`/projects/${projectId}/sync/opt-out$`));
    expect(await text(page, 'h1')).toBe('Opt out of the sync?');
    await page.getByRole('button', { name: 'Yes, opt out' }).click();
    await page.waitForURL(new RegExp(`/projects/${projectId}#sync$`));
    expect(await text(page, '.flash')).toBe(
      'The sync is off and its Heroku webhook deleted. The env vars keep their values.',
    );
    expect((await admin.api('GET', `/api/projects/${projectId}/heroku-sync`)).json.enabled).toBe(false);
    expect(pipeline.sim.webhooks({ app: 'nojs-prod' })).toEqual([]);
    // No script ran and no event stream was opened: the flow above needed neither.
    expect(scripts).toEqual([]);
    await page.close();
  });
});
