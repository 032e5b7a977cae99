import { scrubSecrets } from '@hds/core';
import type { DbOrTx, LinkState } from '@hds/db';
import { isHerokuApiError } from '@hds/heroku';
import type { AccountCredentials } from './accounts.js';
import type { AuditActor } from './audit.js';
import type { SyncContext } from './context.js';
import { assertNever, RateLimitedError } from './errors.js';
import { noteRetryError, setLinkState } from './release-path/index.js';

/** What a failed Heroku call means for a job. */
export type FailureVerdict =
  /** Retry later with backoff (BullMQ attempts). The error is rethrown. */
  | { kind: 'transient'; error: Error }
  /** The account's budget is spent: delay until `retryAt` without using an attempt. */
  | { kind: 'rate_limited'; error: RateLimitedError }
  /** Nothing will help until someone acts; the link's state says what to do. */
  | { kind: 'permanent'; state: LinkState; message: string };

function describe(err: unknown): string {
  return scrubSecrets(err instanceof Error ? err.message : String(err)).slice(0, 500);
}

/**
 * Decides what a failure while syncing a link means, and records it on the link so a sync never breaks
 * silently: 401 (after the one refresh the client already tried) → `needs_reauth`; 404 → `app_missing`;
 * 403 and other refusals → `error`; 429 → the account rests; network errors, timeouts and 5xx → the last error
 * is shown and the job retries.
 */
export async function judgeFailure(
  ctx: SyncContext,
  credentials: AccountCredentials,
  options: {
    linkId: string;
    /** The app the failed work was for: a link moved to another app since is left alone. */
    appId: string;
    accountId: string;
    error: unknown;
    actor: AuditActor;
  },
): Promise<FailureVerdict> {
  const { error } = options;
  if (error instanceof RateLimitedError) return { kind: 'rate_limited', error };
  if (!isHerokuApiError(error)) {
    return { kind: 'transient', error: error instanceof Error ? error : new Error(String(error)) };
  }
  const { linkId, appId } = options;
  const record = (state: LinkState, message: string, db: DbOrTx = ctx.db) =>
    setLinkState(db, { linkId, appId, state, lastError: message, actor: options.actor });
  switch (error.kind) {
    case 'rate_limited': {
      const retryAt = await credentials.noteRateLimited(options.accountId, error.retryAfterMs);
      return { kind: 'rate_limited', error: new RateLimitedError(options.accountId, retryAt) };
    }
    case 'server':
    case 'network':
    case 'timeout': {
      // Show the problem while retrying, without changing the state.
      await noteRetryError(ctx.db, { linkId, appId, lastError: describe(error) });
      return { kind: 'transient', error };
    }
    case 'unauthorized': {
      // Only while the refused credential is still the stored one: when the owner signed in again or gave a new
      // key since the call read it (or is storing one right now), the work is retried with the new one.
      const message = 'Heroku no longer accepts this account’s credentials: sign in with Heroku again';
      const recorded = await credentials.whileRefused(options.accountId, (tx) => record('needs_reauth', message, tx));
      if (!recorded) return { kind: 'transient', error };
      return { kind: 'permanent', state: 'needs_reauth', message };
    }
    case 'not_found': {
      const message = 'the Heroku app is gone or this account can no longer see it';
      await record('app_missing', message);
      return { kind: 'permanent', state: 'app_missing', message };
    }
    case 'forbidden': {
      const message = `Heroku refused access (the account needs the read-protected and write scopes on this app): ${describe(error)}`;
      await record('error', message);
      return { kind: 'permanent', state: 'error', message };
    }
    case 'invalid_params':
    case 'unexpected': {
      const message = describe(error);
      await record('error', message);
      return { kind: 'permanent', state: 'error', message };
    }
    default:
      return assertNever(error.kind);
  }
}
