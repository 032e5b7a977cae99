import { join } from 'node:path';
import { chromiumLaunchOptions } from '@hds/testkit';
import { chromium } from 'playwright-core';

export const CHROMIUM = chromiumLaunchOptions.executablePath;

export interface SignInSetting {
  /** ADMIN_PUBLIC_URL: where the console is opened (the sign-in cookies only come back to this host name). */
  consoleUrl: string;
  /** HEROKU_OAUTH_BROWSER_URL: where "Sign in with Heroku" must send the browser. */
  authorizeUrl: string;
  adminToken: string;
  email: string;
  app: string;
  /** Where a screenshot of the page goes when a step fails. */
  screenshotDir: string;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The README's console flow in Chromium: create a project, "Sign in with Heroku" (heroku-sim's authorize page,
 * "Allow as …"), back on the console pick `app` and enable the sync. Every hop goes through the published ports,
 * so it proves that the console's, the OAuth page's and the callback's URLs all follow them.
 * Returns the project's id.
 */
export async function signInWithHerokuInChromium(setting: SignInSetting): Promise<string> {
  const browser = await chromium.launch(chromiumLaunchOptions);
  const context = await browser.newContext({ httpCredentials: { username: 'admin', password: setting.adminToken } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const flash = async () => ((await page.locator('.flash').first().textContent()) ?? '').trim();
  try {
    await page.goto(`${setting.consoleUrl}/`);
    await page.getByLabel('Name').fill('compose-smoke-console');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(new RegExp(`^${escapeRegExp(setting.consoleUrl)}/projects/[0-9a-f-]{36}$`));
    const projectId = new URL(page.url()).pathname.split('/').pop()!;

    await page.getByRole('link', { name: 'Sign in with Heroku' }).click();
    await page.waitForURL(`${setting.authorizeUrl}/oauth/authorize?**`);
    await page.getByRole('button', { name: `Allow as ${setting.email}` }).click();
    await page.waitForURL(new RegExp(`^${escapeRegExp(setting.consoleUrl)}/projects/${projectId}\\?account=`));
    const signedIn = await flash();
    if (signedIn !== `Signed in to Heroku as ${setting.email}.`)
      throw new Error(`after sign-in the page says "${signedIn}"`);

    await page.locator('select[name=app]').selectOption({ label: setting.app });
    await page.getByRole('button', { name: 'Enable sync' }).click();
    await page.waitForURL(`${setting.consoleUrl}/projects/${projectId}#sync`);
    const enabled = await flash();
    if (!enabled.startsWith(`Sync enabled for ${setting.app}:`))
      throw new Error(`after enabling the page says "${enabled}"`);
    const state = await page.locator('[data-testid=sync-status] .badge').getAttribute('data-state');
    if (state !== 'active') throw new Error(`the sync's state is ${state}`);
    return projectId;
  } catch (err) {
    const path = join(setting.screenshotDir, 'sign-in-failure.png');
    await page.screenshot({ path, fullPage: true }).catch(() => undefined);
    throw new Error(`in Chromium at ${page.url()} (screenshot ${path}): ${(err as Error).message}`);
  } finally {
    await browser.close();
  }
}
