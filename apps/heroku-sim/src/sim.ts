import { createLogger, listen as listenHttp, type Logger } from '@hds/core';
import express, { type Express } from 'express';
import { RateLimiter } from './api/rate-limiter.js';
import { RequestLog } from './api/request-log.js';
import { createPlatformRouter } from './api/platform-router.js';
import { createControlRouter } from './control/control-router.js';
import { createControls, type SimControls, type SimPreload } from './control/controls.js';
import { DeliveryEngine } from './delivery/delivery-engine.js';
import { buildReleaseEvent, RELEASE_INCLUDE } from './delivery/release-events.js';
import { FaultState } from './faults/faults.js';
import { createOAuthRouter } from './oauth/oauth-router.js';
import { OAuthState } from './oauth/oauth-state.js';
import type { SimContext } from './sim-context.js';
import { Releases, type ReleaseEventSink } from './state/releases.js';
import { Store } from './state/store.js';
import { systemClock, type Clock } from './support/clock.js';
import { PendingWork } from './support/pending-work.js';
import { createRandom } from './support/prng.js';
import { TimerSet } from './support/timers.js';

/** Heroku retries `sync` deliveries for up to 72 hours; standalone the sim retries on this shorter schedule. */
export const DEFAULT_RETRY_SCHEDULE_MS = [1_000, 5_000, 15_000, 60_000, 300_000] as const;

export interface HerokuSimOptions {
  /** Seeds the PRNG that picks which requests and deliveries rate-based faults hit. Default 1. */
  seed?: number | string;
  /** Waits before each retry of a failed `sync` delivery (ms); its length is the number of retries. */
  retryScheduleMs?: readonly number[];
  /** How long one delivery attempt may take. Default 10 s. */
  deliveryTimeoutMs?: number;
  /** OAuth clients the token endpoint accepts. Without `redirectUri` the authorize request's is used. */
  oauthClients?: Array<{ id: string; secret: string; redirectUri?: string; name?: string }>;
  /** Lifetime of OAuth access tokens. Default 28,800 s (8 hours, as Heroku). */
  accessTokenTtlSeconds?: number;
  /** The per-account token bucket. Default 4,500 tokens refilled at 75 a minute. */
  rateLimit?: { capacity?: number; refillPerMinute?: number };
  /** Time for token expiry, rate-limit refill and timestamps. Default `Date.now`. */
  clock?: Clock;
  logger?: Logger;
  /** How a browser reaches the sim (absolute links on the OAuth page). */
  publicUrl?: string;
  /** An account (fixed API key) with apps, created at start and on every reset. */
  preload?: SimPreload;
}

export interface SimServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export type HerokuSim = SimControls & {
  /** The whole sim as an express app: Platform API, OAuth, `/_sim/` controls. */
  handler: Express;
  /** Serves `handler` on `host:port` (default 127.0.0.1, port 0 picks one). */
  listen(options?: { port?: number; host?: string }): Promise<SimServer>;
  /** Stops every timer and delivery and closes every server `listen` opened. */
  close(): Promise<void>;
};

export function createHerokuSim(options: HerokuSimOptions = {}): HerokuSim {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ app: 'heroku-sim', level: 'silent' });
  const timers = new TimerSet();
  const work = new PendingWork();
  const store = new Store(clock);
  const faults = new FaultState(createRandom(options.seed ?? 1));
  const oauth = new OAuthState({ clock, accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 28_800 });
  for (const client of options.oauthClients ?? []) oauth.registerClient(client);

  const deliveries = new DeliveryEngine({
    retryScheduleMs: options.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS,
    timeoutMs: options.deliveryTimeoutMs ?? 10_000,
    faults,
    timers,
    work,
    clock,
    logger,
    findWebhook: (id) => store.findWebhook(id)?.webhook,
  });

  // Every release event is recorded on the app and delivered to each webhook that includes api:release.
  const publish: ReleaseEventSink = ({ app, release, action, previousData }) => {
    const current = store.currentRelease(app)?.id === release.id;
    const event = buildReleaseEvent({ app, release, action, current, previousData, now: clock() });
    app.events.push(event);
    for (const webhook of app.webhooks) {
      if (webhook.include.includes(RELEASE_INCLUDE)) deliveries.enqueue({ app, webhook, event });
    }
  };

  const ctx: SimContext = {
    store,
    oauth,
    releases: new Releases({ store, clock, timers, work, publish }),
    deliveries,
    faults,
    rateLimiter: new RateLimiter(
      { capacity: options.rateLimit?.capacity ?? 4_500, refillPerMinute: options.rateLimit?.refillPerMinute ?? 75 },
      clock,
    ),
    requestLog: new RequestLog(),
    clock,
    timers,
    work,
    logger,
    publicUrl: options.publicUrl,
  };
  const controls = createControls(ctx, { preload: options.preload });
  controls.applyPreload();

  const handler = express();
  handler.disable('x-powered-by');
  handler.set('etag', false);
  handler.use('/_sim', createControlRouter(ctx, controls));
  handler.use(createOAuthRouter(ctx));
  handler.use(createPlatformRouter(ctx));

  const servers = new Set<SimServer>();
  return {
    ...controls,
    handler,
    async listen(listenOptions = {}) {
      const running = await listenHttp(handler, {
        port: listenOptions.port ?? 0,
        host: listenOptions.host ?? '127.0.0.1',
      });
      const server: SimServer = {
        url: running.url,
        port: running.port,
        close: async () => {
          servers.delete(server);
          await running.close(1_000);
        },
      };
      servers.add(server);
      return server;
    },
    async close() {
      timers.clear({ close: true });
      work.abandon();
      await deliveries.close();
      await Promise.all([...servers].map((s) => s.close()));
    },
  };
}
