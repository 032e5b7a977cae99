/**
 * The release path's one owner: every write a release makes to Postgres goes through this module, and nothing
 * else writes those columns (`owner.test.ts` scans the service's source for writes of them elsewhere). It is the
 * typed face of the SQL functions in `packages/db/drizzle/0009_release_path_functions.sql` (why they are SQL
 * functions: docs/adr/0005), and each of the path's rules lives in exactly one of them:
 *
 * | rule                                                                  | kept in               | called through     |
 * | --------------------------------------------------------------------- | --------------------- | ------------------ |
 * | record an event once per (event id, link), judge it, raise the target | `hds_record_event`    | `recordEvent`      |
 * | a fetch is owed (newer target, or mappings changed since the applied  | `hds_claim_fetch`     | `claimFetch`       |
 * | release); the target grows; the lease is taken when free              |                       |                    |
 * | the lease is given back by its owner only                             | `hds_release_lease`   | `releaseLease`     |
 * | an event's outcome is written once, when its work ends                | `hds_settle_event`    | `settleEvent`      |
 * | a state change writes its audit row                                   | `hds_set_link_state`  | `setLinkState`     |
 * | an env var is written unless unchanged (fingerprint under any key)    | `hds_put_env_var`     | `putEnvVar`        |
 * | each written value queues one delivery per destination carrying it,   | `hds_outbox_add`      | (`hds_put_env_var`,|
 * | superseding that destination's undelivered older value (0011)         |                       |  issue 13)         |
 * | the commit: app, version guard, values, state healing, notify         | `hds_commit_release`  | `commitRelease`    |
 * | a target Heroku has no release for goes down to the newest one        | `lowerTarget`         | `lowerTarget`      |
 * | what moving a link to another app resets                              | `releasePathReset`    | (enable)           |
 *
 * Every write is tied to the app the link had when the work began (`appId`): a link moved to another app
 * meanwhile is left alone (its commit answers `other_app`), so a fetch of the old app never lands in the new one.
 *
 * `webhook_events.outcome` has two writers: `hds_record_event` when an event needs no fetch (at first sight), and
 * `hds_settle_event` once its fetch ends (from the commit's transaction, or `settleEvent` when it failed).
 *
 * State healing: a working fetch heals (inside the commit) `error`, `app_missing`, `needs_reauth` and
 * `config_var_missing`, or makes the link `config_var_missing` when the release lacks a mapped config var; a full
 * reconcile (releases and webhook checked) heals `HEALED_BY_RECONCILE`, which adds `webhook_missing` and leaves
 * `config_var_missing` to the next commit.
 *
 * Adding work to a commit's transaction (an outbox row per changed var, say): extend `hds_put_env_var` (per
 * written var, by hand or from a release) or `hds_commit_release` (per commit) in a new migration
 * (`CREATE OR REPLACE FUNCTION`), and keep this table true.
 */
export { recordEvent, settleEvent } from './events.js';
export { claimFetch, lowerTarget, releaseLease, type Claim } from './fetch-lease.js';
export { commitRelease } from './commit.js';
export { putEnvVar } from './env-var-write.js';
export { HEALED_BY_RECONCILE, noteRetryError, setLinkState } from './link-state.js';
export { leaseCleared, releasePathReset } from './reset.js';
