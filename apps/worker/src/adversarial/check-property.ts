import type { Pipeline } from '@hds/testkit/pipeline';

/** A release of the app as the schedule made it: its version and the DATABASE_URL it set. */
export interface KnownRelease {
  version: number;
  url: string;
}

/** One synced app of a schedule, with what the schedule did to it. */
export interface AppUnderTest {
  projectId: string;
  linkId: string;
  appName: string;
  /** The release applied when the sync was enabled (the app's first), and its URL. */
  baseline: KnownRelease;
  /** The rotations, in the order they happened (so in version order). */
  rotations: KnownRelease[];
}

const VAR = 'HASURA_GRAPHQL_DATABASE_URL';

/**
 * The property, once deliveries and the reconciler have run, for each app:
 *
 * 1. The project's env var (decrypted) is the app's current DATABASE_URL in the sim, and the link is `active`
 *    with `lastReleaseVersion` = the app's newest release and the app's one webhook (re-created if deleted).
 * 2. The project's `env_synced` audit rows are the enable's (the baseline release, written by the admin) and then
 *    exactly the commits that changed the value, in version order. A credential rotation always makes a new URL,
 *    so every release has its own value and every commit of a release changes the value. Which releases get a
 *    row is up to the adversary: a release V is legitimately skipped when a newer release was applied before V
 *    was (V's deliveries were dropped, delayed or held behind newer ones, or V's event coalesced into a fetch of
 *    a newer target): applying V then would write an older value over a newer one. So after the enable's, the
 *    rows must be a strictly increasing subsequence of the schedule's releases that ends at the newest, where
 *    - each row's `after` fingerprint is that of its release's URL (the config as of that release, not another);
 *    - each row's `before` fingerprint is the previous row's `after`: no write happened without its row, and no
 *      row is for an unchanged value;
 *    - versions strictly increase: no duplicate (a redelivery, a retry or a crashed worker's late commit applied
 *      twice) and never an older value written over a newer one (rows are written under the link's row lock in
 *      the transaction of the write, so their order is the order of the writes).
 *    With no rotation, the enable's row is the only one.
 *
 * Returns every violation found, as sentences; empty when the property holds.
 */
export async function checkProperty(pipeline: Pipeline, apps: readonly AppUnderTest[]): Promise<string[]> {
  const found = await Promise.all(apps.map((app) => checkApp(pipeline, app)));
  return found.flat();
}

async function checkApp(pipeline: Pipeline, app: AppUnderTest): Promise<string[]> {
  const violations: string[] = [];
  const say = (message: string) => violations.push(`${app.appName}: ${message}`);
  const fingerprint = (url: string) => pipeline.sync.ctx.keyring.fingerprint(url);
  const releases = [app.baseline, ...app.rotations];
  const byFingerprint = new Map(releases.map((r) => [fingerprint(r.url), r.version]));
  const nameOf = (fp: string | null | undefined) => {
    const version = fp === null || fp === undefined ? undefined : byFingerprint.get(fp);
    return version === undefined ? 'an unknown value' : `the value of v${version}`;
  };
  const newest = releases.at(-1)!;

  const current = pipeline.sim.configVars({ app: app.appName }).DATABASE_URL;
  if (current !== newest.url)
    say(`the sim's DATABASE_URL is not that of v${newest.version} (the schedule's model is wrong)`);
  const [value, status, rows] = await Promise.all([
    pipeline.envValue(app.projectId, VAR),
    pipeline.sync.getSyncStatus(app.projectId),
    pipeline.audit(app.projectId),
  ]);
  if (value !== current) {
    say(
      `${VAR} holds ${nameOf(value === undefined ? undefined : fingerprint(value))}, not the current URL (v${newest.version})`,
    );
  }
  if (status.state !== 'active') say(`the link is ${status.state} (last error: ${status.lastError ?? 'none'})`);
  if (status.lastReleaseVersion !== newest.version) {
    say(`lastReleaseVersion is ${status.lastReleaseVersion}, the newest release is v${newest.version}`);
  }
  const webhooks = pipeline.sim.webhooks({ app: app.appName });
  if (webhooks.length !== 1 || webhooks[0]!.id !== status.webhookId) {
    say(`the app has ${webhooks.length} webhook(s), and the link knows ${status.webhookId ?? 'none'}`);
  }

  const trail = rows.map((r) => `v${r.releaseVersion} by ${r.actor}`).join(', ') || 'none';
  const [enabled, ...synced] = rows;
  if (
    !enabled ||
    enabled.actor !== 'admin' ||
    enabled.releaseVersion !== app.baseline.version ||
    enabled.afterFingerprint !== fingerprint(app.baseline.url)
  ) {
    say(`the first row is not the enable's of v${app.baseline.version} (rows: ${trail})`);
  }
  let previous: KnownRelease = app.baseline;
  for (const row of synced) {
    const version = row.releaseVersion;
    if (row.varName !== VAR) say(`an env_synced row for ${row.varName}`);
    const release = app.rotations.find((r) => r.version === version);
    if (version === null || !release) {
      say(`a row for v${version}, which is not a rotation of this schedule (rows: ${trail})`);
      continue;
    }
    if (version <= previous.version) {
      say(
        `a row for v${version} after one for v${previous.version}: a duplicate, or older over newer (rows: ${trail})`,
      );
    }
    if (row.afterFingerprint !== fingerprint(release.url)) {
      say(`the row for v${version} wrote ${nameOf(row.afterFingerprint)} (rows: ${trail})`);
    }
    if (row.beforeFingerprint !== fingerprint(previous.url)) {
      say(
        `the row for v${version} replaced ${nameOf(row.beforeFingerprint)}, but the row before left the value of v${previous.version} (rows: ${trail})`,
      );
    }
    previous = release;
  }
  if (previous.version !== newest.version) {
    say(`the last audit row is for v${previous.version}, the newest release is v${newest.version} (rows: ${trail})`);
  }
  return violations;
}
