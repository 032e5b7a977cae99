import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { herokuAccounts, type DbOrTx } from '@hds/db';
import { HerokuClient, isHerokuApiError, refreshOAuthToken, type OAuthTokens } from '@hds/heroku';
import { and, eq, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { SyncContext } from './context.js';
import { RateLimitedError, SyncError } from './errors.js';

export const tokenContext = (accountId: string, which: 'access' | 'refresh') => `account:${accountId}:${which}`;

/** Refresh an OAuth access token this long before it expires. */
const REFRESH_MARGIN_MS = 2 * 60_000;
/** How long a decrypted credential is reused before the row is read again. */
const CACHE_TTL_MS = 30_000;
/** A refresh lease lasts this many OAuth call timeouts (the call retries nothing); waiters give up after as long. */
const REFRESH_WAIT_FACTOR = 3;
/** How often a process waiting for another's refresh looks at the account's stored token. */
const REFRESH_POLL_MS = 100;

/** Heroku calls made inside `countCalls` (a sweep's), whatever client made them. */
const callCounter = new AsyncLocalStorage<{ calls: number }>();

/**
 * Runs `work` and counts the Heroku calls it makes in `counter` (each one spends a token of the account's budget):
 * the calls made before it threw are counted too.
 */
export function countCalls<T>(counter: { calls: number }, work: () => Promise<T>): Promise<T> {
  return callCounter.run(counter, work);
}

/** Heroku calls made so far inside the current `countCalls` (0 outside one). */
export function callsSoFar(): number {
  return callCounter.getStore()?.calls ?? 0;
}

interface CachedCredential {
  token: string;
  expiresAt: Date | null;
  refreshable: boolean;
  rateLimitedUntil: Date | null;
  loadedAt: number;
}

export interface AccountView {
  id: string;
  email: string;
  authType: 'api_key' | 'oauth';
  createdAt: string;
}

/**
 * Heroku credentials per account: decrypts tokens, refreshes OAuth tokens (once, even when several jobs find
 * them expired at the same time), keeps an account's calls away from Heroku while its budget is spent, and
 * hands out a `HerokuClient` that spends only that account's budget.
 */
export class AccountCredentials {
  private readonly cache = new Map<string, CachedCredential>();
  /** The last `RateLimit-Remaining` each account's calls saw, written to the account by `flushRemaining`. */
  private readonly remaining = new Map<string, number>();
  /** Refreshes running in this process, by account: concurrent callers share one. */
  private readonly refreshing = new Map<string, Promise<string | undefined>>();
  /** The newest credential generation Heroku refused, by account, as this process saw it (see `whileRefused`). */
  private readonly refused = new Map<string, number>();

  constructor(private readonly ctx: SyncContext) {}

  private async load(accountId: string, force = false): Promise<CachedCredential> {
    const cached = this.cache.get(accountId);
    if (!force && cached && Date.now() - cached.loadedAt < CACHE_TTL_MS) return cached;
    const [row] = await this.ctx.db.select().from(herokuAccounts).where(eq(herokuAccounts.id, accountId));
    if (!row) throw new SyncError('not_found', `no Heroku account ${accountId}`);
    const credential: CachedCredential = {
      token: this.ctx.keyring.decrypt(row.accessTokenEncrypted, tokenContext(accountId, 'access')),
      expiresAt: row.accessTokenExpiresAt,
      refreshable:
        row.authType === 'oauth' && row.refreshTokenEncrypted !== null && this.ctx.heroku.oauth !== undefined,
      rateLimitedUntil: row.rateLimitedUntil,
      loadedAt: Date.now(),
    };
    this.cache.set(accountId, credential);
    return credential;
  }

  /**
   * Runs `record` only while the account's stored credential is one Heroku refused in this process: in a
   * transaction that holds the account's row `FOR SHARE`, so a new sign-in or API key being stored waits for it
   * (and then re-arms what it recorded) or is seen by it. Returns false, recording nothing, when the credential was
   * replaced since it was refused (or this process has not seen it refused): the work should be retried.
   */
  async whileRefused(accountId: string, record: (tx: DbOrTx) => Promise<unknown>): Promise<boolean> {
    return this.ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .select({ generation: herokuAccounts.tokenGeneration })
        .from(herokuAccounts)
        .where(eq(herokuAccounts.id, accountId))
        .for('share');
      if (!row) return false;
      // Unknown (the call's retry with a newer credential was refused too): the next attempt finds out.
      const refused = this.refused.get(accountId);
      if (refused === undefined || row.generation > refused) return false;
      await record(tx);
      return true;
    });
  }

  /** Heroku refused the account's credential of `generation` (and no refresh helped). */
  private noteRefused(accountId: string, generation: number): void {
    this.refused.set(accountId, Math.max(this.refused.get(accountId) ?? generation, generation));
  }

  /** Throws `RateLimitedError` while the account's budget is known to be spent. */
  async assertBudget(accountId: string): Promise<void> {
    const credential = await this.load(accountId);
    const until = credential.rateLimitedUntil;
    if (until && until.getTime() > this.ctx.now().getTime()) throw new RateLimitedError(accountId, until);
  }

  /** Records a 429: the account rests until `retryAt` (the later of what is recorded and this). */
  async noteRateLimited(accountId: string, retryAfterMs: number | undefined): Promise<Date> {
    const base = retryAfterMs ?? this.ctx.options.rateLimitBackoffMs;
    const jittered = retryAfterMs === undefined ? base * (0.75 + this.ctx.random() * 0.5) : base;
    const retryAt = new Date(this.ctx.now().getTime() + jittered);
    const [row] = await this.ctx.db
      .update(herokuAccounts)
      .set({
        rateLimitedUntil: sql`greatest(coalesce(${herokuAccounts.rateLimitedUntil}, ${retryAt.toISOString()}::timestamptz), ${retryAt.toISOString()}::timestamptz)`,
        rateLimitRemaining: 0,
        rateLimitSeenAt: this.ctx.now(),
      })
      .where(eq(herokuAccounts.id, accountId))
      .returning({ until: herokuAccounts.rateLimitedUntil });
    const until = row?.until ?? retryAt;
    const cached = this.cache.get(accountId);
    if (cached) cached.rateLimitedUntil = until;
    return until;
  }

  /** Stores the last `RateLimit-Remaining` seen for the account (the reconciler paces itself by it). */
  async flushRemaining(accountId: string): Promise<void> {
    const remaining = this.remaining.get(accountId);
    if (remaining === undefined) return;
    this.remaining.delete(accountId);
    await this.ctx.db
      .update(herokuAccounts)
      .set({ rateLimitRemaining: remaining, rateLimitSeenAt: this.ctx.now() })
      .where(eq(herokuAccounts.id, accountId));
  }

  private async token(accountId: string): Promise<string> {
    const credential = await this.load(accountId);
    const expiring =
      credential.expiresAt !== null && credential.expiresAt.getTime() - REFRESH_MARGIN_MS < this.ctx.now().getTime();
    if (expiring && credential.refreshable) return (await this.refresh(accountId, credential.token)) ?? credential.token;
    return credential.token;
  }

  /**
   * Gets a token to use instead of `stale` (refused by Heroku with a 401, or about to expire), one refresh per
   * account at a time: concurrent callers in this process share one refresh, and across processes the account's
   * refresh lease (`refresh_owner`, taken and given back in single statements, so no connection is held while
   * Heroku answers) lets one process call Heroku while the others wait for the stored token to change and use it.
   * A credential replaced since `stale` was read (a refresh elsewhere, a new sign-in or API key) is used as it is
   * now. Returns undefined when no token can be had (API key, no OAuth client, refresh refused): the stored
   * credential is then noted as refused (see `whileRefused`).
   */
  async refresh(accountId: string, stale: string): Promise<string | undefined> {
    const running = this.refreshing.get(accountId);
    if (running) return running;
    const refreshing = this.refreshOnce(accountId, stale).finally(() => {
      this.refreshing.delete(accountId);
      this.cache.delete(accountId);
    });
    this.refreshing.set(accountId, refreshing);
    return refreshing;
  }

  private async refreshOnce(accountId: string, stale: string): Promise<string | undefined> {
    const oauth = this.ctx.heroku.oauth;
    const owner = randomUUID();
    const timeoutMs = this.ctx.heroku.timeoutMs ?? 10_000;
    const giveUpAt = Date.now() + REFRESH_WAIT_FACTOR * timeoutMs;
    for (;;) {
      const [row] = await this.ctx.db.select().from(herokuAccounts).where(eq(herokuAccounts.id, accountId));
      if (!row) return undefined;
      // Replaced since it was read (another process refreshed it, or someone signed in again or gave a new API key,
      // which can change its kind): use the stored one.
      const stored = this.ctx.keyring.decrypt(row.accessTokenEncrypted, tokenContext(accountId, 'access'));
      if (stored !== stale) return stored;
      if (!oauth || row.authType !== 'oauth' || row.refreshTokenEncrypted === null) {
        this.noteRefused(accountId, row.tokenGeneration);
        return undefined;
      }
      const [claimed] = await this.ctx.db
        .update(herokuAccounts)
        .set({
          refreshOwner: owner,
          refreshExpiresAt: sql`now() + ${REFRESH_WAIT_FACTOR * timeoutMs} * interval '1 millisecond'`,
        })
        .where(
          and(
            eq(herokuAccounts.id, accountId),
            eq(herokuAccounts.tokenGeneration, row.tokenGeneration),
            isNotNull(herokuAccounts.refreshTokenEncrypted),
            or(isNull(herokuAccounts.refreshOwner), lt(herokuAccounts.refreshExpiresAt, sql`now()`)),
          ),
        )
        .returning();
      if (claimed?.refreshTokenEncrypted) return this.callRefresh({ accountId, owner, row: claimed, oauth });
      // Another process is refreshing: wait for its token (or for its lease to lapse).
      if (Date.now() > giveUpAt) throw new Error(`waited too long for another process to refresh account ${accountId}`);
      await setTimeout(REFRESH_POLL_MS);
    }
  }

  /** The refresh itself, under the account's refresh lease (`owner`); stores the new tokens and gives the lease back. */
  private async callRefresh(options: {
    accountId: string;
    owner: string;
    row: typeof herokuAccounts.$inferSelect;
    oauth: NonNullable<SyncContext['heroku']['oauth']>;
  }): Promise<string | undefined> {
    const { accountId, owner, row } = options;
    const mine = and(eq(herokuAccounts.id, accountId), eq(herokuAccounts.refreshOwner, owner));
    const giveBack = () =>
      this.ctx.db.update(herokuAccounts).set({ refreshOwner: null, refreshExpiresAt: null }).where(mine);
    let tokens: OAuthTokens;
    try {
      const refreshToken = this.ctx.keyring.decrypt(
        row.refreshTokenEncrypted ?? '',
        tokenContext(accountId, 'refresh'),
      );
      tokens = await refreshOAuthToken(
        { ...options.oauth, dispatcher: this.ctx.heroku.dispatcher, timeoutMs: this.ctx.heroku.timeoutMs },
        refreshToken,
      );
    } catch (err) {
      await giveBack();
      if (isHerokuApiError(err) && !err.transient) {
        this.ctx.logger.warn({ accountId, err }, 'Heroku refused the token refresh');
        this.noteRefused(accountId, row.tokenGeneration);
        return undefined;
      }
      throw err;
    }
    await this.ctx.db
      .update(herokuAccounts)
      .set({
        ...this.sealTokens(accountId, tokens),
        tokenGeneration: sql`${herokuAccounts.tokenGeneration} + 1`,
        refreshOwner: null,
        refreshExpiresAt: null,
        updatedAt: this.ctx.now(),
      })
      .where(mine);
    this.ctx.logger.info({ accountId }, 'refreshed Heroku access token');
    return tokens.accessToken;
  }

  private sealTokens(accountId: string, tokens: OAuthTokens) {
    return {
      accessTokenEncrypted: this.ctx.keyring.encrypt(tokens.accessToken, tokenContext(accountId, 'access')),
      ...(tokens.refreshToken === undefined
        ? {}
        : { refreshTokenEncrypted: this.ctx.keyring.encrypt(tokens.refreshToken, tokenContext(accountId, 'refresh')) }),
      accessTokenExpiresAt: new Date(this.ctx.now().getTime() + tokens.expiresIn * 1000),
      scope: tokens.scope ?? null,
    };
  }

  /** A client that authenticates as this account (and refreshes its token when Heroku says 401). */
  client(accountId: string): HerokuClient {
    return this.clientWithToken(accountId, () => this.token(accountId));
  }

  private clientWithToken(accountId: string, token: () => Promise<string> | string): HerokuClient {
    return new HerokuClient({
      baseUrl: this.ctx.heroku.apiUrl,
      auth: { token, refresh: (refused) => this.refresh(accountId, refused) },
      timeoutMs: this.ctx.heroku.timeoutMs,
      retry: this.ctx.heroku.retry,
      dispatcher: this.ctx.heroku.dispatcher,
      random: this.ctx.random,
      onCall: (info) => {
        const counter = callCounter.getStore();
        if (counter) counter.calls += 1;
        if (info.rateLimitRemaining !== undefined && Number.isFinite(info.rateLimitRemaining)) {
          this.remaining.set(accountId, info.rateLimitRemaining);
        }
        this.ctx.hooks.herokuCall?.({ ...info, accountId });
      },
    });
  }

  /**
   * Stores a Heroku account after checking the credential with `GET /account`. Signing in again as the same
   * Heroku user updates that account's tokens rather than adding a second one.
   */
  async add(options: { apiKey: string } | { oauth: OAuthTokens }): Promise<AccountView> {
    const accessToken = 'apiKey' in options ? options.apiKey : options.oauth.accessToken;
    const probe = new HerokuClient({
      baseUrl: this.ctx.heroku.apiUrl,
      auth: { token: () => accessToken },
      timeoutMs: this.ctx.heroku.timeoutMs,
      retry: this.ctx.heroku.retry,
      dispatcher: this.ctx.heroku.dispatcher,
    });
    let herokuAccount;
    try {
      herokuAccount = await probe.getAccount();
    } catch (err) {
      if (isHerokuApiError(err, 'unauthorized'))
        throw new SyncError('invalid', 'Heroku did not accept this credential', { cause: err });
      if (isHerokuApiError(err) && err.transient)
        throw new SyncError('heroku_unavailable', 'Heroku did not answer', { cause: err });
      throw new SyncError('heroku_refused', isHerokuApiError(err) ? err.message : 'Heroku refused', { cause: err });
    }
    // The ciphertexts are bound to the account's id: upsert first, then encrypt with the id the database kept,
    // in one transaction (the upsert's row lock makes a concurrent add of the same user wait for this one).
    const row = await this.ctx.db.transaction(async (tx) => {
      const [kept] = await tx
        .insert(herokuAccounts)
        .values({
          herokuUserId: herokuAccount.id,
          email: herokuAccount.email,
          authType: 'apiKey' in options ? 'api_key' : 'oauth',
          accessTokenEncrypted: '',
          tokenGeneration: 0,
        })
        .onConflictDoUpdate({ target: herokuAccounts.herokuUserId, set: { email: herokuAccount.email } })
        .returning({ id: herokuAccounts.id });
      if (!kept) throw new Error('account upsert returned nothing');
      const sealed =
        'apiKey' in options
          ? {
              authType: 'api_key' as const,
              accessTokenEncrypted: this.ctx.keyring.encrypt(options.apiKey, tokenContext(kept.id, 'access')),
              refreshTokenEncrypted: null,
              accessTokenExpiresAt: null,
              scope: null,
            }
          : { authType: 'oauth' as const, refreshTokenEncrypted: null, ...this.sealTokens(kept.id, options.oauth) };
      const [stored] = await tx
        .update(herokuAccounts)
        .set({
          ...sealed,
          tokenGeneration: sql`${herokuAccounts.tokenGeneration} + 1`,
          rateLimitedUntil: null,
          updatedAt: this.ctx.now(),
        })
        .where(eq(herokuAccounts.id, kept.id))
        .returning();
      return stored;
    });
    if (!row) throw new Error('account update returned nothing');
    this.cache.delete(row.id);
    return toAccountView(row);
  }
}

export function toAccountView(row: typeof herokuAccounts.$inferSelect): AccountView {
  return { id: row.id, email: row.email, authType: row.authType, createdAt: row.createdAt.toISOString() };
}
