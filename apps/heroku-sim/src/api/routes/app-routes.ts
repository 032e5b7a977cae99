import { Router, type Response } from 'express';
import type { SimContext } from '../../sim-context.js';
import { herokuErrors } from '../../support/heroku-error.js';
import type { App, Attachment, PostgresAddon, Release } from '../../state/model.js';
import { describeConfigChange } from '../../state/releases.js';
import { credentialOf, need, param, sendList } from '../http-helpers.js';
import { appUpdateBody, configVarsPatchBody, parseBody } from '../request-bodies.js';
import { serializeAddon, serializeApp, serializeAttachment, serializeRelease } from '../serializers.js';

/** Apps, config vars, releases, add-ons and attachments. */
export function appRoutes(ctx: SimContext): Router {
  const router = Router();
  const ownedApp = (res: Response, idOrName: string): App =>
    ctx.store.requireOwnedApp(idOrName, credentialOf(res).account.id);
  const ownerOf = (app: App) => {
    const owner = ctx.store.getAccount(app.ownerId);
    if (!owner) throw herokuErrors.appNotFound();
    return owner;
  };
  const addonOf = (app: App, attachment: Attachment): PostgresAddon => {
    const addon = app.addons.find((a) => a.id === attachment.addonId);
    if (!addon) throw herokuErrors.notFound("Couldn't find that add-on.");
    return addon;
  };

  router.get('/apps/:app', need('read'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    res.json(serializeApp(app, ownerOf(app), ctx.store.currentRelease(app)));
  });

  // Maintenance mode: kept in the app's state and shown in its answers (the sim serves no traffic to hold).
  router.patch('/apps/:app', need('write'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    const body = parseBody(appUpdateBody, req.body);
    ctx.store.setMaintenance(app, body.maintenance);
    res.json(serializeApp(app, ownerOf(app), ctx.store.currentRelease(app)));
  });

  router.get('/apps/:app/config-vars', need('read-protected'), (req, res) => {
    res.json(ownedApp(res, param(req, 'app')).config);
  });

  // Heroku makes a release for every config change; its events go to the app's webhooks.
  router.patch('/apps/:app/config-vars', need('write-protected'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    const changes = parseBody(configVarsPatchBody, req.body);
    if (Object.keys(changes).length > 0) {
      const { account } = credentialOf(res);
      ctx.releases.create({
        app,
        changes,
        description: describeConfigChange(changes),
        user: { id: account.id, email: account.email },
      });
    }
    res.json(app.config);
  });

  router.get('/apps/:app/releases', need('read-protected'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    const current = ctx.store.currentRelease(app);
    sendList(req, res, {
      items: app.releases,
      shape: {
        fields: ['version', 'id'],
        numericFields: ['version'],
        value: (r: Release, field: string) => (field === 'version' ? r.version : r.id),
      },
      serialize: (r: Release) => serializeRelease(app, r, current),
    });
  });

  router.get('/apps/:app/releases/:release', need('read-protected'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    res.json(
      serializeRelease(app, ctx.store.requireRelease(app, param(req, 'release')), ctx.store.currentRelease(app)),
    );
  });

  // The config as of a release, whatever happened since.
  router.get('/apps/:app/releases/:release/config-vars', need('read-protected'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    res.json(ctx.store.requireRelease(app, param(req, 'release')).config);
  });

  router.get('/apps/:app/addons', need('read'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    sendList(req, res, {
      items: app.addons,
      shape: { fields: ['id', 'name'], value: (a: PostgresAddon, f: string) => (f === 'name' ? a.name : a.id) },
      serialize: (a: PostgresAddon) => serializeAddon(app, a),
    });
  });

  router.get('/apps/:app/addons/:addon', need('read'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    const addon = app.addons.find((a) => a.id === param(req, 'addon') || a.name === param(req, 'addon'));
    if (!addon) throw herokuErrors.notFound("Couldn't find that add-on.");
    res.json(serializeAddon(app, addon));
  });

  router.get('/apps/:app/addon-attachments', need('read'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    sendList(req, res, {
      items: app.attachments,
      shape: { fields: ['id', 'name'], value: (a: Attachment, f: string) => (f === 'name' ? a.name : a.id) },
      serialize: (a: Attachment) => serializeAttachment(app, a, addonOf(app, a)),
    });
  });

  router.get('/apps/:app/addon-attachments/:attachment', need('read'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    const { attachment, addon } = ctx.store.requireAttachment(app, param(req, 'attachment'));
    res.json(serializeAttachment(app, attachment, addon));
  });

  return router;
}
