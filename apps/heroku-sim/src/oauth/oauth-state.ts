import { randomBytes } from 'node:crypto';
import { HerokuError, herokuErrors } from '../support/heroku-error.js';
import { newId, newToken } from '../support/ids.js';
import type { StateChangeListener } from '../state/changes.js';
import type { Clock } from '../support/clock.js';
import type { OAuthScope } from './scopes.js';

export interface OAuthClient {
  id: string;
  secret: string;
  /** Where approval redirects. Without one, the `redirect_uri` of the authorize request is used. */
  redirectUri: string | undefined;
  name: string;
}

interface AuthorizationCode {
  code: string;
  clientId: string;
  accountId: string;
  scopes: OAuthScope[];
  expiresAt: number;
  used: boolean;
}

export interface AccessToken {
  token: string;
  accountId: string;
  scopes: OAuthScope[];
  expiresAt: number;
  revoked: boolean;
}

export interface RefreshToken {
  token: string;
  clientId: string;
  accountId: string;
  scopes: OAuthScope[];
  revoked: boolean;
}

/** What `POST /oauth/token` answers (Heroku's identity service shape, plus `scope`). */
export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  token_type: 'Bearer';
  user_id: string;
  session_nonce: string;
  scope: string;
}

const CODE_TTL_MS = 10 * 60_000;

/** Everything OAuthState keeps across restarts (codes live ten minutes and are not kept). */
export interface OAuthSnapshot {
  clients: OAuthClient[];
  refreshTokens: RefreshToken[];
  accessTokens: AccessToken[];
}

/**
 * OAuth clients, authorization codes, access and refresh tokens. Changes to clients and tokens are told to
 * `onChange` (the persistence).
 */
export class OAuthState {
  private readonly clients = new Map<string, OAuthClient>();
  private codes = new Map<string, AuthorizationCode>();
  private accessTokens = new Map<string, AccessToken>();
  private refreshTokens = new Map<string, RefreshToken>();
  private readonly onChange: StateChangeListener;

  constructor(
    private readonly options: { clock: Clock; accessTokenTtlSeconds: number; onChange?: StateChangeListener },
  ) {
    this.onChange = options.onChange ?? (() => {});
  }

  /** Takes over loaded clients and tokens (at start-up); tells nobody, they are already stored. */
  restore(snapshot: OAuthSnapshot): void {
    for (const client of snapshot.clients) this.clients.set(client.id, client);
    for (const token of snapshot.refreshTokens) this.refreshTokens.set(token.token, token);
    for (const token of snapshot.accessTokens) this.accessTokens.set(token.token, token);
  }

  registerClient(input: { id?: string; secret?: string; redirectUri?: string; name?: string }): OAuthClient {
    const client: OAuthClient = {
      id: input.id ?? newId(),
      secret: input.secret ?? randomBytes(24).toString('hex'),
      redirectUri: input.redirectUri,
      name: input.name ?? 'heroku-sim OAuth client',
    };
    this.clients.set(client.id, client);
    this.onChange({ kind: 'oauth-client', client });
    return client;
  }

  getClient(id: string): OAuthClient | undefined {
    return this.clients.get(id);
  }

  /** Forgets codes and tokens; registered clients stay. */
  reset(): void {
    this.codes = new Map();
    this.accessTokens = new Map();
    this.refreshTokens = new Map();
  }

  issueCode(input: { clientId: string; accountId: string; scopes: OAuthScope[] }): string {
    const code = randomBytes(20).toString('hex');
    this.codes.set(code, { code, ...input, expiresAt: this.options.clock() + CODE_TTL_MS, used: false });
    return code;
  }

  /** `grant_type=authorization_code`: a code is good once, for the client it was issued to. */
  exchangeCode(input: {
    code: string | undefined;
    clientSecret: string | undefined;
    clientId: string | undefined;
  }): TokenResponse {
    const client = this.authenticateClient(input.clientSecret, input.clientId);
    if (!input.code) throw herokuErrors.invalidParams('Missing code.');
    const grant = this.codes.get(input.code);
    if (!grant || grant.clientId !== client.id) throw invalidGrant('Invalid OAuth authorization code.');
    if (grant.used) throw invalidGrant('OAuth authorization code has already been used.');
    if (grant.expiresAt <= this.options.clock()) throw invalidGrant('OAuth authorization code has expired.');
    grant.used = true;
    const refresh: RefreshToken = {
      token: newToken(),
      clientId: client.id,
      accountId: grant.accountId,
      scopes: grant.scopes,
      revoked: false,
    };
    this.refreshTokens.set(refresh.token, refresh);
    this.onChange({ kind: 'refresh-token', token: refresh });
    return this.issueAccessToken(refresh);
  }

  /** `grant_type=refresh_token`: a new access token; the refresh token stays the same. */
  refresh(input: {
    refreshToken: string | undefined;
    clientSecret: string | undefined;
    clientId: string | undefined;
  }): TokenResponse {
    const client = this.authenticateClient(input.clientSecret, input.clientId);
    if (!input.refreshToken) throw herokuErrors.invalidParams('Missing refresh_token.');
    const refresh = this.refreshTokens.get(input.refreshToken);
    if (!refresh || refresh.clientId !== client.id || refresh.revoked) throw invalidGrant('Invalid refresh token.');
    return this.issueAccessToken(refresh);
  }

  /** The account and scopes of a live access token. */
  resolveAccessToken(token: string): { accountId: string; scopes: OAuthScope[] } | undefined {
    const access = this.accessTokens.get(token);
    if (!access || access.revoked || access.expiresAt <= this.options.clock()) return undefined;
    return { accountId: access.accountId, scopes: access.scopes };
  }

  /** Makes access tokens (of one account, or all) expire now. Returns how many. */
  expireAccessTokens(accountId?: string): number {
    let count = 0;
    const now = this.options.clock();
    for (const access of this.accessTokens.values()) {
      if ((accountId === undefined || access.accountId === accountId) && access.expiresAt > now) {
        access.expiresAt = now;
        this.onChange({ kind: 'access-token', token: access });
        count += 1;
      }
    }
    return count;
  }

  /** Revokes every access and refresh token of an account (the user revoked the authorization). */
  revokeTokens(accountId: string): number {
    let count = 0;
    for (const token of this.accessTokens.values()) {
      if (token.accountId === accountId && !token.revoked) {
        token.revoked = true;
        this.onChange({ kind: 'access-token', token });
        count += 1;
      }
    }
    for (const token of this.refreshTokens.values()) {
      if (token.accountId === accountId && !token.revoked) {
        token.revoked = true;
        this.onChange({ kind: 'refresh-token', token });
        count += 1;
      }
    }
    return count;
  }

  private issueAccessToken(refresh: RefreshToken): TokenResponse {
    const ttl = this.options.accessTokenTtlSeconds;
    const access: AccessToken = {
      token: newToken(),
      accountId: refresh.accountId,
      scopes: refresh.scopes,
      expiresAt: this.options.clock() + ttl * 1000,
      revoked: false,
    };
    this.accessTokens.set(access.token, access);
    this.onChange({ kind: 'access-token', token: access });
    return {
      access_token: access.token,
      expires_in: ttl,
      refresh_token: refresh.token,
      token_type: 'Bearer',
      user_id: refresh.accountId,
      session_nonce: newId(),
      scope: refresh.scopes.join(' '),
    };
  }

  /** Heroku finds the client by its secret; a `client_id`, when sent, must agree. */
  private authenticateClient(secret: string | undefined, clientId: string | undefined): OAuthClient {
    const client = secret ? [...this.clients.values()].find((c) => c.secret === secret) : undefined;
    if (!client || (clientId !== undefined && clientId !== client.id)) {
      throw new HerokuError(401, 'unauthorized', 'Invalid OAuth client secret.');
    }
    return client;
  }
}

function invalidGrant(message: string): HerokuError {
  return new HerokuError(401, 'unauthorized', message);
}
