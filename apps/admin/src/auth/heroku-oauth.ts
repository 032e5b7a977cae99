import { randomBytes } from 'node:crypto';
import { buildAuthorizeUrl, exchangeOAuthCode, isHerokuApiError, OAUTH_SCOPES } from '@hds/heroku';
import { SyncError, type SyncService } from '@hds/sync';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { uuid } from '../api/schemas.js';
import { setFlash } from '../console/flash.js';
import { renderErrorPage } from '../console/pages/error-page.js';
import { toApiError } from '../http/errors.js';
import { requestLogger } from '../http/request-context.js';
import { constantTimeEqual } from './constant-time.js';
import type { OAuthStateStore } from './oauth-state.js';
import { cookieOptions, getSession } from './session.js';

export interface HerokuOAuthConfig {
  clientId: string;
  clientSecret: string;
  /** `HEROKU_OAUTH_URL`: the token exchange (server to server). */
  oauthUrl: string;
  /** `HEROKU_OAUTH_BROWSER_URL`: where the browser goes to authorize. */
  browserUrl: string;
  timeoutMs?: number;
}

export interface HerokuOAuthDeps {
  sync: SyncService;
  states: OAuthStateStore;
  /** Undefined when no OAuth client is configured: the pages say so. */
  oauth: HerokuOAuthConfig | undefined;
  /** `ADMIN_PUBLIC_URL`, for the redirect URI. */
  publicUrl: string;
  secureCookies: boolean;
  reconcileRearmed(linkIds: readonly string[]): Promise<void>;
}

const STATE_COOKIE = 'hds_oauth_state';
const STATE_TTL_SECONDS = 600;

const startQuery = z.object({
  project: uuid.optional(),
  /** Set on the hop to `ADMIN_PUBLIC_URL`, so a proxy that rewrites the host cannot make a redirect loop. */
  via: z.literal('public').optional(),
});
const callbackQuery = z.object({
  code: z.string().max(2048).optional(),
  state: z.string().max(256).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(1024).optional(),
});

/** "Sign in with Heroku": the OAuth code flow, with a `state` bound to the browser session and used once. */
export function createHerokuOAuthRouter(deps: HerokuOAuthDeps): Router {
  const router = Router();
  const redirectUri = `${deps.publicUrl}/auth/heroku/callback`;
  const publicHost = new URL(deps.publicUrl).host.toLowerCase();
  const stateCookie = cookieOptions(deps.secureCookies, { path: '/auth/heroku', maxAge: STATE_TTL_SECONDS * 1000 });

  const page = (res: Response, status: number, title: string, message: string, backHref = '/') => {
    res
      .status(status)
      .set('cache-control', 'no-store')
      .type('html')
      .send(
        renderErrorPage({
          title,
          message,
          backHref,
          backLabel: backHref === '/' ? 'Back to projects' : 'Back to the project',
        }),
      );
  };

  router.get('/auth/heroku/start', async (req, res) => {
    if (!deps.oauth) {
      page(
        res,
        404,
        'Sign in with Heroku is not set up',
        'Set HEROKU_OAUTH_CLIENT_ID and HEROKU_OAUTH_CLIENT_SECRET, or add an API key instead.',
      );
      return;
    }
    const query = startQuery.safeParse(req.query);
    if (!query.success) {
      page(res, 400, 'Sign in with Heroku', 'The project in this link is not valid.');
      return;
    }
    const { project } = query.data;
    if (project) await deps.sync.getProject(project); // a 404 page for a project that does not exist
    // The callback goes to ADMIN_PUBLIC_URL, and the cookies that bind the sign-in to this browser only go back to
    // the host that set them: a sign-in started at another address (127.0.0.1 for localhost) moves there first.
    if (req.get('host')?.toLowerCase() !== publicHost && !query.data.via) {
      const next = new URLSearchParams({ ...(project ? { project } : {}), via: 'public' });
      res.set('cache-control', 'no-store').redirect(302, `${deps.publicUrl}/auth/heroku/start?${next.toString()}`);
      return;
    }
    const state = randomBytes(32).toString('base64url');
    await deps.states.save(state, { sessionId: getSession(res).id, projectId: project }, STATE_TTL_SECONDS);
    res.cookie(STATE_COOKIE, state, stateCookie);
    res.set('cache-control', 'no-store');
    res.redirect(
      302,
      buildAuthorizeUrl({
        oauthUrl: deps.oauth.browserUrl,
        clientId: deps.oauth.clientId,
        state,
        scope: OAUTH_SCOPES,
        redirectUri,
      }),
    );
  });

  router.get('/auth/heroku/callback', async (req, res) => {
    const cookieState = (req.signedCookies as Record<string, unknown>)[STATE_COOKIE];
    res.clearCookie(STATE_COOKIE, stateCookie);
    const parsed = callbackQuery.safeParse(req.query);
    const query = parsed.success ? parsed.data : {};
    if (
      !deps.oauth ||
      !query.state ||
      typeof cookieState !== 'string' ||
      !constantTimeEqual(query.state, cookieState)
    ) {
      page(
        res,
        400,
        'Sign-in could not be completed',
        'This sign-in did not start in this browser, or it has expired. Start it again from the console.',
      );
      return;
    }
    const pending = await deps.states.take(query.state);
    if (!pending || !constantTimeEqual(pending.sessionId, getSession(res).id)) {
      page(
        res,
        400,
        'Sign-in could not be completed',
        'This sign-in link has already been used or has expired. Start it again from the console.',
      );
      return;
    }
    const back = pending.projectId ? `/projects/${pending.projectId}` : '/';
    if (query.error) {
      const denied = query.error === 'access_denied';
      page(
        res,
        denied ? 403 : 400,
        denied ? 'Heroku access was not granted' : 'Heroku sign-in failed',
        denied
          ? 'You declined the authorization on Heroku, so no account was connected.'
          : `Heroku answered: ${query.error_description ?? query.error}`,
        back,
      );
      return;
    }
    if (!query.code) {
      page(res, 400, 'Sign-in could not be completed', 'Heroku did not send an authorization code.', back);
      return;
    }

    let tokens;
    try {
      tokens = await exchangeOAuthCode(
        {
          oauthUrl: deps.oauth.oauthUrl,
          clientId: deps.oauth.clientId,
          clientSecret: deps.oauth.clientSecret,
          ...(deps.oauth.timeoutMs === undefined ? {} : { timeoutMs: deps.oauth.timeoutMs }),
        },
        query.code,
        redirectUri,
      );
    } catch (err) {
      requestLogger(res).warn({ err }, 'Heroku OAuth code exchange failed');
      const unavailable = isHerokuApiError(err) && err.transient;
      page(
        res,
        unavailable ? 503 : 400,
        'Sign-in could not be completed',
        unavailable
          ? 'Heroku did not answer; try again in a moment.'
          : 'Heroku did not accept the sign-in code; start again.',
        back,
      );
      return;
    }

    let account;
    try {
      const added = await deps.sync.addAccount({ oauth: tokens });
      account = added.account;
      await deps.reconcileRearmed(added.rearmedLinks);
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
      const apiError = toApiError(err);
      page(res, apiError.status, 'The Heroku account could not be added', apiError.message, back);
      return;
    }
    setFlash(res, { kind: 'ok', message: `Signed in to Heroku as ${account.email}.` }, deps.secureCookies);
    res.redirect(303, pending.projectId ? `/projects/${pending.projectId}?account=${account.id}#sync` : '/');
  });

  return router;
}
