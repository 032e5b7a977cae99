import type { DestinationsService } from '@hds/destinations';
import { createOpsRoutes, type Logger, type ReadinessCheck } from '@hds/core';
import type { JobProducer } from '@hds/queue';
import type { MigrationService } from '@hds/migrate-data';
import type { SyncService } from '@hds/sync';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import { createApiRouter } from './api/router.js';
import { requireBasic } from './auth/basic.js';
import { createHerokuOAuthRouter, type HerokuOAuthConfig } from './auth/heroku-oauth.js';
import type { OAuthStateStore } from './auth/oauth-state.js';
import { cookieSecret, sessionMiddleware } from './auth/session.js';
import { BULL_BOARD_PATH, bullBoardSecurityHeaders, createBullBoardRouter } from './bull-board.js';
import { consoleErrorHandler } from './console/error-handler.js';
import type { ProjectEvents } from './console/project-events.js';
import { createConsoleRouter } from './console/router.js';
import { createHttpMetrics, requestContext } from './http/request-context.js';
import { enqueueReconcile } from './jobs.js';

export interface AdminAppOptions {
  sync: SyncService;
  /** Destinations, deliveries and project read tokens. */
  destinations: DestinationsService;
  /** Data migrations (their `enqueue` puts jobs on the producer's `data-migrations` queue). */
  migrations: MigrationService;
  /** Enqueues reconciles; its queues are the ones Bull Board shows. */
  producer: JobProducer;
  logger: Logger;
  registry: Registry;
  /** `/readyz` checks, e.g. `{postgres, redis}`. */
  readinessChecks: Record<string, ReadinessCheck>;
  /** Pending "sign in with Heroku" states (Redis in production). */
  oauthStates: OAuthStateStore;
  /** Project changes (Postgres LISTEN) pushed to open project pages; without it pages follow no changes. */
  projectEvents?: ProjectEvents | undefined;
  config: {
    adminToken: string;
    /** `ADMIN_PUBLIC_URL`: the OAuth redirect URI's base; `https` makes cookies `Secure`. */
    publicUrl: string;
    /** Without it, "sign in with Heroku" is off and accounts are added with API keys. */
    oauth?: HerokuOAuthConfig | undefined;
  };
}

/**
 * The admin as an express app, without a server: the admin API (`/api`, bearer), "sign in with Heroku"
 * (`/auth/heroku`), Bull Board (`/admin/queues`) and the console (`/`), all three behind Basic auth, plus
 * `/healthz`, `/readyz` and `/metrics`.
 */
export function createAdminApp(options: AdminAppOptions): Express {
  const { sync, destinations, migrations, producer, logger, config } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const secureCookies = config.publicUrl.startsWith('https://');

  const reconcileRearmed = async (linkIds: readonly string[]) => {
    for (const linkId of linkIds) {
      try {
        await enqueueReconcile(producer, { linkId, reason: 'recovery' });
      } catch (err) {
        // The sign-in itself worked; the scheduled reconcile picks the link up soon anyway.
        logger.warn({ err, linkId }, 'could not queue a reconcile for a re-armed link');
      }
    }
  };

  app.use(requestContext({ logger, metrics: createHttpMetrics(options.registry) }));
  app.use(createOpsRoutes({ registry: options.registry, checks: options.readinessChecks }));
  const api = createApiRouter({
    sync,
    destinations,
    migrations,
    producer,
    reconcileRearmed,
    adminToken: config.adminToken,
  });
  app.use('/api', api);

  const basic = requireBasic(config.adminToken);
  const bullBoard = createBullBoardRouter(producer.all());
  app.use(
    BULL_BOARD_PATH,
    (_req, res, next) => {
      res.locals.routeLabel = BULL_BOARD_PATH;
      next();
    },
    bullBoardSecurityHeaders,
    basic,
    bullBoard,
  );

  const secret = cookieSecret(config.adminToken);
  app.use(basic, cookieParser(secret), sessionMiddleware({ secret, secure: secureCookies }));
  app.use(
    createHerokuOAuthRouter({
      sync,
      states: options.oauthStates,
      oauth: config.oauth,
      publicUrl: config.publicUrl,
      secureCookies,
      reconcileRearmed,
    }),
  );
  app.use(
    createConsoleRouter({
      sync,
      destinations,
      migrations,
      producer,
      secureCookies,
      oauthEnabled: config.oauth !== undefined,
      reconcileRearmed,
      projectEvents: options.projectEvents,
      apiDocument: api.document,
    }),
  );
  app.use(consoleErrorHandler);
  return app;
}
