import { Router } from 'express';
import type { SimContext } from '../../sim-context.js';
import { herokuErrors } from '../../support/heroku-error.js';
import type { Account, App } from '../../state/model.js';
import { credentialOf, need, param, sendList } from '../http-helpers.js';
import { serializeAccount, serializeApp } from '../serializers.js';

/** `~`, the account's id or its email name the caller; anyone else is not found. */
function requireSelf(account: Account, user: string): void {
  if (user !== '~' && user !== account.id && user.toLowerCase() !== account.email) {
    throw herokuErrors.notFound("Couldn't find that user.");
  }
}

export function accountRoutes(ctx: SimContext): Router {
  const router = Router();
  const listApps = (account: Account) => ({
    items: ctx.store
      .appsOwnedBy(account.id)
      .filter((app) => !ctx.faults.unlisted({ appKeys: [app.id, app.name], accountId: account.id })),
    shape: { fields: ['id', 'name'], value: (app: App, field: string) => (field === 'name' ? app.name : app.id) },
    serialize: (app: App) => serializeApp(app, account, ctx.store.currentRelease(app)),
  });

  router.get('/account', need('identity'), (_req, res) => {
    res.json(serializeAccount(credentialOf(res).account));
  });

  router.get('/users/:user', need('identity'), (req, res) => {
    const { account } = credentialOf(res);
    requireSelf(account, param(req, 'user'));
    res.json(serializeAccount(account));
  });

  // Does not spend budget (see the gatekeeper); any valid credential may ask.
  router.get('/account/rate-limits', (_req, res) => {
    res.json({ remaining: ctx.rateLimiter.remaining(credentialOf(res).account.id) });
  });

  router.get('/apps', need('read'), (req, res) => {
    sendList(req, res, listApps(credentialOf(res).account));
  });

  router.get('/users/:user/apps', need('read'), (req, res) => {
    const { account } = credentialOf(res);
    requireSelf(account, param(req, 'user'));
    sendList(req, res, listApps(account));
  });

  return router;
}
