import express, { Router } from 'express';
import { z } from 'zod';
import { herokuErrorHandler, param, queryString } from '../api/http-helpers.js';
import { parseBody } from '../api/request-bodies.js';
import type { SimContext } from '../sim-context.js';
import { herokuErrors } from '../support/heroku-error.js';
import { rotationTarget } from './control-steps.js';
import type { SimControls } from './controls.js';
import type { SimDatabaseControls } from './database-controls.js';

const releasePhase = z
  .object({
    status: z.enum(['succeeded', 'failed']).optional(),
    afterMs: z.number().int().min(0).max(600_000).optional(),
    hold: z.boolean().optional(),
  })
  .strict();

const bodies = {
  account: z.object({ email: z.string().min(3), apiKey: z.string().min(8).optional() }).strict(),
  app: z
    .object({
      name: z.string(),
      accountId: z.string().min(1),
      extraDatabases: z.union([z.number().int().min(0).max(20), z.array(z.string()).max(20)]).optional(),
      configVars: z.record(z.string().regex(/^\w+$/), z.string()).optional(),
    })
    .strict(),
  configVars: z
    .object({
      vars: z.record(z.string().regex(/^\w+$/), z.string().nullable()),
      actor: z.object({ id: z.string(), email: z.string() }).strict().optional(),
      releasePhase: releasePhase.optional(),
    })
    .strict(),
  rotate: z.object({ database: z.string().optional(), releasePhase: releasePhase.optional() }).strict(),
  rotateMany: z.object({ apps: z.array(z.string().min(1)).min(1).max(1000) }).strict(),
  seed: z.object({ rows: z.number().int().optional(), database: z.string().optional() }).strict(),
  finish: z.object({ status: z.enum(['succeeded', 'failed', 'expired']) }).strict(),
  oauthClient: z
    .object({
      id: z.string().min(1).optional(),
      secret: z.string().min(8).optional(),
      redirectUri: z.url().optional(),
      name: z.string().optional(),
    })
    .strict(),
  expire: z.object({ accountId: z.string().optional() }).strict(),
  revoke: z.object({ apiKey: z.boolean().optional() }).strict(),
};

/** Optional fields without `undefined` values, for inputs typed with optional properties. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** `/_sim/`: test controls, JSON, no authentication. Documented in apps/heroku-sim/README.md. */
export function createControlRouter(ctx: SimContext, controls: SimControls & SimDatabaseControls): Router {
  const router = Router();
  router.use(express.json({ limit: '1mb' }));

  router.post('/accounts', (req, res) => {
    res.status(201).json(controls.createAccount(defined(parseBody(bodies.account, req.body))));
  });
  router.get('/accounts', (_req, res) => {
    res.json(controls.accounts());
  });
  router.post('/accounts/:account/revoke-tokens', (req, res) => {
    const body = parseBody(bodies.revoke, req.body);
    res.json(controls.revokeTokens(defined({ accountId: param(req, 'account'), apiKey: body.apiKey })));
  });
  router.post('/expire-access-tokens', (req, res) => {
    res.json(controls.expireAccessTokens(defined(parseBody(bodies.expire, req.body))));
  });
  router.post('/oauth-clients', (req, res) => {
    res.status(201).json(controls.registerOAuthClient(defined(parseBody(bodies.oauthClient, req.body))));
  });

  router.post('/apps', async (req, res) => {
    res.status(201).json(await controls.createAppAsync(defined(parseBody(bodies.app, req.body))));
  });
  router.get('/apps', (_req, res) => {
    res.json(ctx.store.listApps().map((a) => ({ id: a.id, name: a.name, accountId: a.ownerId })));
  });
  router.delete('/apps/:app', async (req, res) => {
    await controls.deleteAppAsync({ app: param(req, 'app') });
    res.status(204).end();
  });
  router.get('/apps/:app/config-vars', (req, res) => {
    res.json(controls.configVars({ app: param(req, 'app') }));
  });
  router.post('/apps/:app/config-vars', (req, res) => {
    const body = defined(parseBody(bodies.configVars, req.body));
    res.json(controls.setConfigVars({ app: param(req, 'app'), ...body }));
  });
  router.post('/apps/:app/rotate-credentials', async (req, res) => {
    const body = defined(parseBody(bodies.rotate, req.body));
    res.json(await controls.rotateCredentialsAsync({ app: param(req, 'app'), ...body }));
  });
  // Rotates several apps' credentials in one call (load generators: one request instead of one per app). Every app
  // is checked first: an unknown one is a 404 naming it, and nothing is rotated.
  router.post('/rotate-credentials', async (req, res) => {
    const body = parseBody(bodies.rotateMany, req.body);
    const unknown = body.apps.filter((app) => ctx.store.findApp(app) === undefined);
    if (unknown.length > 0) {
      throw herokuErrors.notFound(
        `Couldn't find ${unknown.length === 1 ? 'that app' : 'these apps'}: ${unknown.join(', ')}.`,
      );
    }
    for (const app of body.apps) rotationTarget(ctx, { app });
    const rotated = [];
    for (const app of body.apps) rotated.push({ app, ...(await controls.rotateCredentialsAsync({ app })) });
    res.json(rotated);
  });
  router.post('/apps/:app/seed', async (req, res) => {
    const body = defined(parseBody(bodies.seed, req.body));
    res.json(await controls.seed({ app: param(req, 'app'), rows: body.rows ?? 100, ...body }));
  });
  router.post('/apps/:app/releases/:version/finish', (req, res) => {
    const body = parseBody(bodies.finish, req.body);
    res.json(
      controls.finishRelease({ app: param(req, 'app'), version: Number(param(req, 'version')), status: body.status }),
    );
  });
  router.get('/apps/:app/webhooks', (req, res) => {
    res.json(controls.webhooks({ app: param(req, 'app') }));
  });
  router.delete('/apps/:app/webhooks/:webhook', (req, res) => {
    controls.deleteWebhook({ app: param(req, 'app'), webhookId: param(req, 'webhook') });
    res.status(204).end();
  });

  router.get('/faults', (_req, res) => {
    res.json(controls.faults());
  });
  router.post('/faults', (req, res) => {
    res.json(controls.setFaults(req.body as never));
  });
  router.delete('/faults', (_req, res) => {
    controls.clearFaults();
    res.status(204).end();
  });

  router.get('/requests', (req, res) => {
    const status = queryString(req, 'status');
    res.json(
      controls.requests(
        defined({
          method: queryString(req, 'method'),
          path: queryString(req, 'path'),
          accountId: queryString(req, 'accountId'),
          status: status === undefined ? undefined : Number(status),
        }),
      ),
    );
  });
  router.delete('/requests', (_req, res) => {
    controls.clearRequests();
    res.status(204).end();
  });

  router.get('/deliveries', (req, res) => {
    res.json(
      controls.deliveries(
        defined({
          app: queryString(req, 'app'),
          webhookId: queryString(req, 'webhookId'),
          eventId: queryString(req, 'eventId'),
          status: queryString(req, 'status'),
        }),
      ),
    );
  });
  router.post('/deliveries/release-held', (_req, res) => {
    res.json(controls.releaseHeldDeliveries());
  });
  // Long-polls until every delivery settled (for tests driving a standalone sim over HTTP).
  router.get('/deliveries/settled', async (req, res) => {
    const timeoutMs = Math.min(Number(queryString(req, 'timeoutMs') ?? 10_000) || 10_000, 60_000);
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      controls.settled().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    res.status(settled ? 200 : 408).json({ settled });
  });

  router.post('/reset', async (_req, res) => {
    await controls.resetAsync();
    res.status(204).end();
  });

  router.use(herokuErrorHandler(ctx));
  return router;
}
