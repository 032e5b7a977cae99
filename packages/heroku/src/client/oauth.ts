import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { HerokuApiError, kindForStatus } from './errors.js';
import { sharedDispatcher, USER_AGENT } from './transport.js';

/**
 * Scopes the service asks for: `identity` for `GET /account` (who signed in: `read` and `write` exclude account
 * information), `read-protected` to read config vars and releases (plain `read` excludes them), `write` to
 * manage webhooks.
 */
export const OAUTH_SCOPES = ['identity', 'read-protected', 'write'] as const;

export interface OAuthClientConfig {
  /** `HEROKU_OAUTH_URL`, e.g. https://id.heroku.com */
  oauthUrl: string;
  clientId: string;
  clientSecret: string;
  dispatcher?: Dispatcher;
  timeoutMs?: number;
}

export interface OAuthTokens {
  accessToken: string;
  refreshToken: string | undefined;
  /** Seconds until the access token expires. */
  expiresIn: number;
  userId: string | undefined;
  scope: string | undefined;
}

const tokenAnswer = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.coerce.number().int().positive(),
  token_type: z.string().optional(),
  user_id: z.string().optional(),
  scope: z.string().optional(),
});

/** Where to send the browser: Heroku's authorize page for the code flow. */
export function buildAuthorizeUrl(options: {
  oauthUrl: string;
  clientId: string;
  state: string;
  scope?: readonly string[];
  redirectUri?: string;
}): string {
  const url = new URL('/oauth/authorize', options.oauthUrl);
  url.searchParams.set('client_id', options.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', (options.scope ?? OAUTH_SCOPES).join(' '));
  url.searchParams.set('state', options.state);
  if (options.redirectUri) url.searchParams.set('redirect_uri', options.redirectUri);
  return url.href;
}

async function tokenRequest(
  config: OAuthClientConfig,
  form: Record<string, string>,
  route: string,
): Promise<OAuthTokens> {
  let status = 0;
  let json: unknown;
  try {
    const res = await request(new URL('/oauth/token', config.oauthUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'user-agent': USER_AGENT,
      },
      body: new URLSearchParams({ ...form, client_secret: config.clientSecret }).toString(),
      dispatcher: config.dispatcher ?? sharedDispatcher(),
      signal: AbortSignal.timeout(config.timeoutMs ?? 10_000),
    });
    status = res.statusCode;
    const text = await res.body.text();
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch (err) {
    const timedOut = (err as { name?: string }).name === 'TimeoutError';
    throw new HerokuApiError({
      kind: status === 0 ? (timedOut ? 'timeout' : 'network') : 'unexpected',
      method: 'POST',
      route,
      ...(status === 0 ? {} : { status }),
      cause: err,
    });
  }
  if (status >= 400) {
    const body = (json ?? {}) as { id?: unknown; message?: unknown; error?: unknown; error_description?: unknown };
    const herokuId = typeof body.id === 'string' ? body.id : typeof body.error === 'string' ? body.error : undefined;
    const message =
      typeof body.message === 'string'
        ? body.message
        : typeof body.error_description === 'string'
          ? body.error_description
          : undefined;
    // An OAuth grant refused (bad code, revoked refresh token) means the person must sign in again.
    const kind = status === 400 ? 'unauthorized' : kindForStatus(status);
    throw new HerokuApiError({ kind, method: 'POST', route, status, herokuId, herokuMessage: message });
  }
  const parsed = tokenAnswer.safeParse(json);
  if (!parsed.success) {
    throw new HerokuApiError({
      kind: 'unexpected',
      method: 'POST',
      route,
      status,
      herokuMessage: 'token answer has an unexpected shape',
    });
  }
  return {
    accessToken: parsed.data.access_token,
    refreshToken: parsed.data.refresh_token,
    expiresIn: parsed.data.expires_in,
    userId: parsed.data.user_id,
    scope: parsed.data.scope,
  };
}

/** Exchanges an authorization code from the callback for tokens. */
export function exchangeOAuthCode(config: OAuthClientConfig, code: string, redirectUri?: string): Promise<OAuthTokens> {
  const form: Record<string, string> = { grant_type: 'authorization_code', code, client_id: config.clientId };
  if (redirectUri) form.redirect_uri = redirectUri;
  return tokenRequest(config, form, '/oauth/token (authorization_code)');
}

/** Gets a fresh access token with a refresh token. */
export function refreshOAuthToken(config: OAuthClientConfig, refreshToken: string): Promise<OAuthTokens> {
  return tokenRequest(
    config,
    { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: config.clientId },
    '/oauth/token (refresh_token)',
  );
}
