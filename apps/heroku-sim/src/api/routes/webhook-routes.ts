import { randomBytes } from 'node:crypto';
import { Router, type Response } from 'express';
import type { DeliveryRecord } from '../../delivery/delivery-record.js';
import type { SimContext } from '../../sim-context.js';
import { herokuErrors } from '../../support/heroku-error.js';
import { newId } from '../../support/ids.js';
import type { App, Webhook, WebhookEvent } from '../../state/model.js';
import { credentialOf, need, param, sendList } from '../http-helpers.js';
import { parseBody, webhookCreateBody, webhookUpdateBody } from '../request-bodies.js';
import { serializeWebhook, serializeWebhookDelivery, serializeWebhookEvent } from '../serializers.js';

const byId = { fields: ['id'], value: (item: { id: string }) => item.id };

/** App webhooks, and their deliveries and events. */
export function webhookRoutes(ctx: SimContext): Router {
  const router = Router();
  const ownedApp = (res: Response, idOrName: string): App =>
    ctx.store.requireOwnedApp(idOrName, credentialOf(res).account.id);
  const assertUrlFree = (app: App, url: string, except?: string) => {
    if (app.webhooks.some((w) => w.url === url && w.id !== except)) {
      throw herokuErrors.invalidParams('Url has already been taken for this app.');
    }
  };

  router.post('/apps/:app/webhooks', need('write'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    const body = parseBody(webhookCreateBody, req.body);
    assertUrlFree(app, body.url);
    const now = ctx.clock();
    const webhook: Webhook = {
      id: newId(),
      appId: app.id,
      include: [...new Set(body.include)],
      level: body.level,
      url: body.url,
      secret: body.secret ?? randomBytes(30).toString('hex'),
      authorization: body.authorization ?? null,
      createdAt: now,
      updatedAt: now,
    };
    ctx.store.addWebhook(app, webhook);
    // The secret (made up unless given) is shown this once, in a header. The Heroku CLI warns when the header
    // is missing even if it sent a secret itself, so Heroku sends it either way.
    res.set('Heroku-Webhook-Secret', webhook.secret);
    res.status(201).json(serializeWebhook(app, webhook));
  });

  router.get('/apps/:app/webhooks', need('read'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    sendList(req, res, { items: app.webhooks, shape: byId, serialize: (w: Webhook) => serializeWebhook(app, w) });
  });

  router.get('/apps/:app/webhooks/:webhook', need('read'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    res.json(serializeWebhook(app, ctx.store.requireWebhook(app, param(req, 'webhook'))));
  });

  router.patch('/apps/:app/webhooks/:webhook', need('write'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    const webhook = ctx.store.requireWebhook(app, param(req, 'webhook'));
    const body = parseBody(webhookUpdateBody, req.body);
    if (body.url !== undefined) assertUrlFree(app, body.url, webhook.id);
    const changes: Parameters<typeof ctx.store.updateWebhook>[2] = {};
    if (body.include !== undefined) changes.include = [...new Set(body.include)];
    if (body.level !== undefined) changes.level = body.level;
    if (body.url !== undefined) changes.url = body.url;
    if (body.secret !== undefined && body.secret !== null) changes.secret = body.secret;
    if (body.authorization !== undefined) changes.authorization = body.authorization;
    res.json(serializeWebhook(app, ctx.store.updateWebhook(app, webhook, changes)));
  });

  router.delete('/apps/:app/webhooks/:webhook', need('write'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    res.json(serializeWebhook(app, ctx.store.deleteWebhook(app, param(req, 'webhook'))));
  });

  const deliveriesOf = (app: App) => ctx.deliveries.list().filter((d) => d.appId === app.id);

  router.get('/apps/:app/webhook-deliveries', need('read'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    sendList(req, res, {
      items: deliveriesOf(app),
      shape: {
        fields: ['seq', 'id'],
        numericFields: ['seq'],
        value: (d: DeliveryRecord, field: string) => (field === 'seq' ? d.seq : d.id),
      },
      serialize: (d: DeliveryRecord) => serializeWebhookDelivery(d),
    });
  });

  router.get('/apps/:app/webhook-deliveries/:delivery', need('read'), (req, res) => {
    const delivery = deliveriesOf(ownedApp(res, param(req, 'app'))).find((d) => d.id === param(req, 'delivery'));
    if (!delivery) throw herokuErrors.notFound("Couldn't find that webhook delivery.");
    res.json(serializeWebhookDelivery(delivery));
  });

  router.get('/apps/:app/webhook-events', need('read'), (req, res) => {
    const app = ownedApp(res, param(req, 'app'));
    sendList(req, res, { items: app.events, shape: byId, serialize: (e: WebhookEvent) => serializeWebhookEvent(e) });
  });

  router.get('/apps/:app/webhook-events/:event', need('read'), (req, res) => {
    const event = ownedApp(res, param(req, 'app')).events.find((e) => e.id === param(req, 'event'));
    if (!event) throw herokuErrors.notFound("Couldn't find that webhook event.");
    res.json(serializeWebhookEvent(event));
  });

  return router;
}
