import { randomUUID } from 'node:crypto';
import { herokuAccounts } from '@hds/db';
import { HerokuClient, isHerokuApiError, refreshOAuthToken, type OAuthTokens } from '@hds/heroku';
import { eq, sql } from 'drizzle-orm';
import type { SyncContext } from './context.js';
import { RateLimitedError, SyncError } from './errors.js';

export const tokenContext = (accountId: string, which: 'access' | 'refresh') => `account:${accountId}:${which}`;

/** Refresh an OAuth access token this long before it expires. */
const REFRESH_MARGIN_MS = 2 * 60_000;
/** How long a decrypted credential is reused before the row is read again. */
const CACHE_TTL_MS = 30_000;

interface CachedCredential {
  token: string;
  generation: number;
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

  constructor(private readonly ctx: SyncContext) {}

  private async load(accountId: string, force = false): Promise<CachedCredential> {
    const cached = this.cache.get(accountId);
    if (!force && cached && Date.now() - cached.loadedAt < CACHE_TTL_MS) return cached;
    const [row] = await this.ctx.db.select().from(herokuAccounts).where(eq(herokuAccounts.id, accountId));
    if (!row) throw new SyncError('not_found', `no Heroku account ${accountId}`);
    const credential: CachedCredential = {
      token: this.ctx.keyring.decrypt(row.accessTokenEncrypted, tokenContext(accountId, 'access')),
      generation: row.tokenGeneration,
      expiresAt: row.accessTokenExpiresAt,
      refreshable:
        row.authType === 'oauth' && row.refreshTokenEncrypted !== null && this.ctx.heroku.oauth !== undefined,
      rateLimitedUntil: row.rateLimitedUntil,
      loadedAt: Date.now(),
    };
    this.cache.set(accountId, credential);
    return credential;
  }

  /** Whether the account's credentials were replaced (new sign-in, refresh) after `since`. */
  async changedSince(accountId: string, since: Date): Promise<boolean> {
    const [row] = await this.ctx.db
      .select({ updatedAt: herokuAccounts.updatedAt })
      .from(herokuAccounts)
      .where(eq(herokuAccounts.id, accountId));
    return row !== undefined && row.updatedAt.getTime() > since.getTime();
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
    if (expiring && credential.refreshable)
      return (await this.refresh(accountId, credential.generation)) ?? credential.token;
    return credential.token;
  }

  /**
   * Gets a fresh access token. The account row is locked while refreshing, and the token generation tells
   * whether another process refreshed meanwhile, in which case its token is used: one refresh per expiry. A
   * credential replaced since this process read it (a new sign-in or API key) is used as it is now.
   * Returns undefined when no token can be had (API key, no OAuth client, refresh refused).
   */
  async refresh(accountId: string, seenGeneration?: number): Promise<string | undefined> {
    const oauth = this.ctx.heroku.oauth;
    const seen = seenGeneration ?? this.cache.get(accountId)?.generation;
    const token = await this.ctx.db.transaction(async (tx) => {
      const [row] = await tx.select().from(herokuAccounts).where(eq(herokuAccounts.id, accountId)).for('update');
      if (!row) return undefined;
      // Replaced since it was read (another process refreshed it, or someone signed in again or gave a new API key,
      // which can change its kind): use the stored one.
      if (seen !== undefined && row.tokenGeneration !== seen) {
        return this.ctx.keyring.decrypt(row.accessTokenEncrypted, tokenContext(accountId, 'access'));
      }
      if (!oauth || row.authType !== 'oauth' || row.refreshTokenEncrypted === null) return undefined;
      const refreshToken = this.ctx.keyring.decrypt(row.refreshTokenEncrypted, tokenContext(accountId, 'refresh'));
      let tokens: OAuthTokens;
      try {
        tokens = await refreshOAuthToken(
          { ...oauth, dispatcher: this.ctx.heroku.dispatcher, timeoutMs: this.ctx.heroku.timeoutMs },
          refreshToken,
        );
      } catch (err) {
        if (isHerokuApiError(err) && !err.transient) {
          this.ctx.logger.warn({ accountId, err }, 'Heroku refused the token refresh');
          return undefined;
        }
        throw err;
      }
      await tx
        .update(herokuAccounts)
        .set({
          ...this.sealTokens(accountId, tokens),
          tokenGeneration: row.tokenGeneration + 1,
          updatedAt: this.ctx.now(),
        })
        .where(eq(herokuAccounts.id, accountId));
      this.ctx.logger.info({ accountId }, 'refreshed Heroku access token');
      return tokens.accessToken;
    });
    this.cache.delete(accountId);
    return token;
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
      auth: { token, refresh: () => this.refresh(accountId) },
      timeoutMs: this.ctx.heroku.timeoutMs,
      retry: this.ctx.heroku.retry,
      dispatcher: this.ctx.heroku.dispatcher,
      random: this.ctx.random,
      onCall: (info) => {
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
    const [existing] = await this.ctx.db
      .select({ id: herokuAccounts.id, generation: herokuAccounts.tokenGeneration })
      .from(herokuAccounts)
      .where(eq(herokuAccounts.herokuUserId, herokuAccount.id));
    const id = existing?.id ?? randomUUID();
    const sealed =
      'apiKey' in options
        ? {
            authType: 'api_key' as const,
            accessTokenEncrypted: this.ctx.keyring.encrypt(options.apiKey, tokenContext(id, 'access')),
            refreshTokenEncrypted: null,
            accessTokenExpiresAt: null,
            scope: null,
          }
        : { authType: 'oauth' as const, refreshTokenEncrypted: null, ...this.sealTokens(id, options.oauth) };
    const [row] = await this.ctx.db
      .insert(herokuAccounts)
      .values({ id, herokuUserId: herokuAccount.id, email: herokuAccount.email, ...sealed })
      .onConflictDoUpdate({
        target: herokuAccounts.herokuUserId,
        set: {
          email: herokuAccount.email,
          ...sealed,
          tokenGeneration: sql`${herokuAccounts.tokenGeneration} + 1`,
          rateLimitedUntil: null,
          updatedAt: this.ctx.now(),
        },
      })
      .returning();
    this.cache.delete(id);
    if (!row) throw new Error('account upsert returned nothing');
    return toAccountView(row);
  }
}

export function toAccountView(row: typeof herokuAccounts.$inferSelect): AccountView {
  return { id: row.id, email: row.email, authType: row.authType, createdAt: row.createdAt.toISOString() };
}
