import express, { Router, type RequestHandler } from 'express';
import type { SimContext } from '../sim-context.js';
import { herokuErrors } from '../support/heroku-error.js';
import { resolveCredential } from './credentials.js';
import { herokuErrorHandler, requestRecorder, sendError } from './http-helpers.js';
import { accountRoutes } from './routes/account-routes.js';
import { appRoutes } from './routes/app-routes.js';
import { webhookRoutes } from './routes/webhook-routes.js';

/** Paths that do not spend rate-limit budget. */
const FREE_PATHS = new Set(['/account/rate-limits']);

/** The app named in the path (`/apps/{id_or_name}/…`), for faults scoped to an app. */
function appKeysOf(ctx: SimContext, path: string): string[] {
  const segment = /^\/apps\/([^/]+)/.exec(path)?.[1];
  if (segment === undefined) return [];
  const name = decodeURIComponent(segment);
  const app = ctx.store.findApp(name);
  return app ? [name, app.id, app.name] : [name];
}

/**
 * Runs before every Platform API route: latency, authentication (401), the account's token bucket (429),
 * injected 5xx. Sets `RateLimit-Remaining` on every answer.
 */
function gatekeeper(ctx: SimContext): RequestHandler {
  return async (req, res, next) => {
    const latency = ctx.faults.apiLatencyMs();
    // A reset or close cut the wait short: answer rather than leave the client hanging.
    if (latency > 0 && !(await ctx.timers.sleep(latency))) {
      sendError(res, herokuErrors.serverError(503));
      return;
    }
    res.set('RateLimit-Multiplier', '1');
    const credential = resolveCredential(req.get('authorization'), ctx);
    if (!credential) {
      res.set('RateLimit-Remaining', String(ctx.rateLimiter.capacity));
      sendError(res, herokuErrors.unauthorized());
      return;
    }
    res.locals.credential = credential;
    const accountId = credential.account.id;
    const context = { appKeys: appKeysOf(ctx, req.path), accountId };
    if (FREE_PATHS.has(req.path)) {
      res.set('RateLimit-Remaining', String(ctx.rateLimiter.remaining(accountId)));
      next();
      return;
    }
    if (ctx.faults.apiRateLimited(context)) {
      res.set('RateLimit-Remaining', '0');
      sendError(res, herokuErrors.rateLimit());
      return;
    }
    const taken = ctx.rateLimiter.take(accountId);
    res.set('RateLimit-Remaining', String(taken.remaining));
    if (!taken.ok) {
      sendError(res, herokuErrors.rateLimit());
      return;
    }
    const injected = ctx.faults.apiError(context);
    if (injected !== undefined) {
      sendError(res, herokuErrors.serverError(injected));
      return;
    }
    next();
  };
}

/** The Platform API subset (api.heroku.com) the service and the Heroku CLI use. */
export function createPlatformRouter(ctx: SimContext): Router {
  const router = Router();
  router.use(requestRecorder(ctx));
  router.use(gatekeeper(ctx));
  router.use(express.json({ type: () => true, limit: '1mb' }));
  router.use(accountRoutes(ctx));
  router.use(appRoutes(ctx));
  router.use(webhookRoutes(ctx));
  router.use((_req, res) => {
    sendError(
      res,
      herokuErrors.notFound(
        'The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?',
      ),
    );
  });
  router.use(herokuErrorHandler(ctx));
  return router;
}
