import type { HerokuClient } from '@hds/heroku';

/**
 * The newest succeeded release among the app's recent ones (one call). Releases without a status predate
 * release phases and were live. Undefined when none of the window succeeded.
 */
export async function newestSucceededRelease(
  client: HerokuClient,
  options: { appId: string; window: number },
): Promise<number | undefined> {
  const releases = await client.listRecentReleases(options.appId, options.window);
  let newest: number | undefined;
  for (const release of releases) {
    const ok = release.status === undefined || release.status === 'succeeded';
    if (ok && (newest === undefined || release.version > newest)) newest = release.version;
  }
  return newest;
}
