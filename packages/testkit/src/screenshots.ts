import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './shared.js';

/** Where a browser test writes its screenshots, and how it leaves the tree. */
export interface ScreenshotDirectory {
  readonly path: string;
  /** Deletes a temporary directory; keeps docs/screenshots/. */
  cleanup(): void;
}

/**
 * Browser tests always take their screenshots: with `UPDATE_SCREENSHOTS=1` (`npm run screenshots -w @hds/admin`)
 * into docs/screenshots/ to be committed, otherwise into a temporary directory, so tests leave the tree clean.
 */
export function screenshotDirectory(env: Record<string, string | undefined> = process.env): ScreenshotDirectory {
  const update = env.UPDATE_SCREENSHOTS === '1';
  const path = update ? join(repoRoot, 'docs', 'screenshots') : mkdtempSync(join(tmpdir(), 'hds-screenshots-'));
  mkdirSync(path, { recursive: true });
  return {
    path,
    cleanup: () => {
      if (!update) rmSync(path, { recursive: true, force: true });
    },
  };
}

/** The Chromium the browser tests drive (`/usr/bin/chromium`, headless), as `chromium.launch` options. */
export const chromiumLaunchOptions = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
};
