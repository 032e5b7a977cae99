import express, { Router, type Request, type Response } from 'express';
import { requestRecorder, herokuErrorHandler } from '../api/http-helpers.js';
import type { SimContext } from '../sim-context.js';
import { HerokuError, herokuErrors } from '../support/heroku-error.js';
import { renderAuthorizePage, renderErrorPage, type AuthorizeRequest } from './authorize-page.js';
import type { OAuthClient } from './oauth-state.js';
import { parseScopes, type OAuthScope } from './scopes.js';

/** A form or query field as a string. */
function field(source: unknown, name: string): string | undefined {
  if (source === null || typeof source !== 'object') return undefined;
  const value = (source as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

class AuthorizeError extends Error {}

interface CheckedAuthorize {
  client: OAuthClient;
  scopes: OAuthScope[];
  state: string;
  redirectUri: string;
  request: AuthorizeRequest;
}

/** Validates an authorize request (query on GET, form on POST); problems are shown, never redirected. */
function checkAuthorize(ctx: SimContext, source: unknown): CheckedAuthorize {
  const clientId = field(source, 'client_id');
  const client = clientId ? ctx.oauth.getClient(clientId) : undefined;
  if (!client) throw new AuthorizeError('Unknown OAuth client.');
  if (field(source, 'response_type') !== 'code') throw new AuthorizeError('response_type must be code.');
  const scopes = parseScopes(field(source, 'scope'));
  if (!scopes.ok) throw new AuthorizeError(`Invalid scope: ${scopes.unknown}.`);
  const requested = field(source, 'redirect_uri');
  // A registered redirect URI wins, as on Heroku; a client without one uses the request's.
  const redirectUri = client.redirectUri ?? requested;
  if (!redirectUri || !/^https?:\/\//.test(redirectUri)) throw new AuthorizeError('No valid redirect_uri.');
  const state = field(source, 'state') ?? '';
  return {
    client,
    scopes: scopes.scopes,
    state,
    redirectUri,
    request: {
      clientId: client.id,
      clientName: client.name,
      scope: scopes.scopes.join(' '),
      state,
      redirectUri: requested,
    },
  };
}

function redirectWith(res: Response, redirectUri: string, params: Record<string, string>): void {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  res.redirect(302, url.href);
}

function showError(res: Response, err: unknown): void {
  if (err instanceof AuthorizeError || err instanceof HerokuError) {
    res.status(400).type('html').send(renderErrorPage(err.message));
    return;
  }
  throw err;
}

/** Heroku's identity endpoints (id.heroku.com): the authorize page and the token endpoint. */
export function createOAuthRouter(ctx: SimContext): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  const action = `${ctx.publicUrl?.replace(/\/$/, '') ?? ''}/oauth/authorize`;

  router.get('/oauth/authorize', (req, res) => {
    try {
      const checked = checkAuthorize(ctx, req.query);
      res
        .type('html')
        .set('Cache-Control', 'no-store')
        .send(renderAuthorizePage({ action, request: checked.request, accounts: ctx.store.listAccounts() }));
    } catch (err) {
      showError(res, err);
    }
  });

  router.post('/oauth/authorize', form, (req, res) => {
    try {
      const checked = checkAuthorize(ctx, req.body);
      const decision = field(req.body, 'decision');
      if (decision !== 'allow') {
        redirectWith(res, checked.redirectUri, { error: 'access_denied', state: checked.state });
        return;
      }
      const accountId = field(req.body, 'account_id');
      const email = field(req.body, 'email');
      const account = accountId
        ? ctx.store.requireAccount(accountId)
        : email
          ? (ctx.store.findAccountByEmail(email) ?? ctx.store.createAccount({ email }))
          : undefined;
      if (!account) throw new AuthorizeError('Choose an account or give an e-mail address.');
      const code = ctx.oauth.issueCode({ clientId: checked.client.id, accountId: account.id, scopes: checked.scopes });
      redirectWith(res, checked.redirectUri, { code, state: checked.state });
    } catch (err) {
      showError(res, err);
    }
  });

  const token = Router();
  token.use(requestRecorder(ctx));
  token.use(form, express.json());
  token.post('/', (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    const body: unknown = req.body;
    const basic = /^basic\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const [basicId, basicSecret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':', 2) : [];
    const clientSecret = basicSecret ?? field(body, 'client_secret');
    const clientId = basicId || field(body, 'client_id');
    const grantType = field(body, 'grant_type');
    if (grantType === 'authorization_code') {
      res.json(ctx.oauth.exchangeCode({ code: field(body, 'code'), clientSecret, clientId }));
    } else if (grantType === 'refresh_token') {
      res.json(ctx.oauth.refresh({ refreshToken: field(body, 'refresh_token'), clientSecret, clientId }));
    } else {
      throw herokuErrors.badRequest('grant_type must be authorization_code or refresh_token.');
    }
  });
  token.use(herokuErrorHandler(ctx));
  router.use('/oauth/token', token);
  return router;
}
