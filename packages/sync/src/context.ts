import type { Keyring, Logger } from '@hds/core';
import type { Database } from '@hds/db';
import type { HerokuCallInfo, OAuthClientConfig, RetryPolicy } from '@hds/heroku';
import type { Dispatcher } from 'undici';

/** What one sweep of an account did. */
export interface SweepStats {
  durationMs: number;
  /** Apps in the account's list. */
  appsSeen: number;
  /** Links the sweep found behind their app's newest release (their delivery lost, or not there yet). */
  linksBehind: number;
  /** Heroku calls the sweep made (pages, releases, config, webhook and app checks). */
  calls: number;
}

/** Tunables, with defaults fit for production; tests shorten the times. */
export interface SyncOptions {
  /** How long a link's fetch lease lasts; another worker may take over a lease that expired. */
  leaseMs: number;
  /** How long to keep away from an account's API after a 429 without a Retry-After (±25% jitter). */
  rateLimitBackoffMs: number;
  /** Share of an account's hourly budget (4,500 requests) the reconciler may spend. */
  reconcileBudgetShare: number;
  /** Never sweep an account (or, polling per link, reconcile a link) more often than this. */
  reconcileMinIntervalMs: number;
  /** The reconciler's bucket holds this long of its share (or one sweep): what a burst of follow-ups may borrow. */
  reconcileBucketMs: number;
  /** Without evidence of a lost delivery, a link's webhook is checked at most this often (budget permitting). */
  webhookCheckIntervalMs: number;
  /** A release the sweep sees whose delivery has not arrived this long after it was released: check the webhook. */
  webhookGraceMs: number;
  /** Heroku's hourly request budget per account. */
  accountHourlyBudget: number;
  /** Below this many remaining requests, the reconciler leaves the account alone for a while. */
  reconcileBudgetFloor: number;
  /** How many recent releases the reconciler looks at to find the newest succeeded one. */
  reconcileReleaseWindow: number;
}

export const defaultSyncOptions: SyncOptions = {
  leaseMs: 60_000,
  rateLimitBackoffMs: 30_000,
  reconcileBudgetShare: 0.1,
  reconcileMinIntervalMs: 10_000,
  reconcileBucketMs: 60_000,
  webhookCheckIntervalMs: 24 * 3_600_000,
  webhookGraceMs: 120_000,
  accountHourlyBudget: 4500,
  reconcileBudgetFloor: 450,
  reconcileReleaseWindow: 10,
};

export interface HerokuSettings {
  apiUrl: string;
  /** For token refresh; without it OAuth accounts cannot be refreshed and need a new sign-in when they expire. */
  oauth?: Omit<OAuthClientConfig, 'dispatcher' | 'timeoutMs'>;
  timeoutMs?: number;
  retry?: RetryPolicy;
  dispatcher?: Dispatcher;
}

/** Observations for metrics; the worker wires them to Prometheus. All optional. */
export interface SyncHooks {
  herokuCall?(info: HerokuCallInfo & { accountId: string }): void;
  /** A release was committed; `receivedAt` is when its webhook arrived (absent for reconciles). */
  releaseApplied?(info: { linkId: string; version: number; changedVars: number; receivedAt?: number }): void;
  /** A sweep of an account's app list ended. */
  sweepFinished?(info: SweepStats & { accountId: string }): void;
}

export interface SyncDeps {
  db: Database;
  keyring: Keyring;
  logger: Logger;
  heroku: HerokuSettings;
  webhooks: {
    /** `PUBLIC_WEBHOOK_BASE_URL` */
    publicBaseUrl: string;
    /** `WEBHOOK_SIGNING_KEYS`; the first signs new webhooks. */
    signingKeys: readonly string[];
  };
  options?: Partial<SyncOptions>;
  hooks?: SyncHooks;
  now?: () => Date;
  random?: () => number;
}

/** What every domain function receives. */
export interface SyncContext {
  db: Database;
  keyring: Keyring;
  logger: Logger;
  heroku: HerokuSettings;
  webhooks: SyncDeps['webhooks'];
  options: SyncOptions;
  hooks: SyncHooks;
  now: () => Date;
  random: () => number;
}

export function createContext(deps: SyncDeps): SyncContext {
  if (deps.webhooks.signingKeys.length === 0) throw new Error('at least one webhook signing key is required');
  return {
    db: deps.db,
    keyring: deps.keyring,
    logger: deps.logger,
    heroku: deps.heroku,
    webhooks: deps.webhooks,
    options: { ...defaultSyncOptions, ...deps.options },
    hooks: deps.hooks ?? {},
    now: deps.now ?? (() => new Date()),
    random: deps.random ?? Math.random,
  };
}
