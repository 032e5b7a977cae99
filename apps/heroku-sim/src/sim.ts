import { createLogger, listen as listenHttp, type Logger } from '@hds/core';
import express, { type Express } from 'express';
import { RateLimiter } from './api/rate-limiter.js';
import { RequestLog } from './api/request-log.js';
import { createPlatformRouter } from './api/platform-router.js';
import { createControlRouter } from './control/control-router.js';
import { createControls, type SimControls, type SimPreload } from './control/controls.js';
import { createDatabaseControls, type SimDatabaseControls } from './control/database-controls.js';
import { AppDatabaseServer } from './databases/app-database-server.js';
import { DeliveryEngine } from './delivery/delivery-engine.js';
import { buildReleaseEvent, RELEASE_INCLUDE } from './delivery/release-events.js';
import { FaultState } from './faults/faults.js';
import { createOAuthRouter } from './oauth/oauth-router.js';
import { OAuthState, type OAuthSnapshot } from './oauth/oauth-state.js';
import { persistBeforeAnswering } from './persistence/persist-before-answering.js';
import { PostgresState } from './persistence/postgres-state.js';
import { StateJournal } from './persistence/state-journal.js';
import type { SimContext } from './sim-context.js';
import type { StateChangeListener } from './state/changes.js';
import { Releases, type ReleaseEventSink } from './state/releases.js';
import { Store, type StoreSnapshot } from './state/store.js';
import { systemClock, type Clock } from './support/clock.js';
import { KeyedSerial } from './support/keyed-serial.js';
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
  /** An account (fixed API key) with apps, created at start (unless kept from before) and on every reset. */
  preload?: SimPreload;
  /**
   * Real databases behind the apps' Heroku Postgres (`SIM_POSTGRES_*`): `adminUrl` may create databases and roles;
   * `host` and `port` are what `DATABASE_URL`s name (default `adminUrl`'s); every role and database is named
   * `<prefix>_…`. Needs `startHerokuSim`.
   */
  postgres?: { adminUrl: string; host?: string; port?: number; prefix: string };
  /** A Postgres URL where the sim keeps its state across restarts (`SIM_STATE_URL`). Needs `startHerokuSim`. */
  stateUrl?: string;
}

export interface SimServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export type HerokuSim = SimControls &
  SimDatabaseControls & {
    /** The whole sim as an express app: Platform API, OAuth, `/_sim/` controls. */
    handler: Express;
    /** Whether the apps' databases are real (`postgres` option) and the state is kept (`stateUrl`). */
    readonly realDatabases: boolean;
    readonly keepsState: boolean;
    /** Resolves once every change so far is written to the state database (at once without one). */
    persisted(): Promise<void>;
    /** For `/readyz`: the state database (`state`) and the databases' server (`databases`) answer, when used. */
    readinessChecks: Record<string, () => Promise<void>>;
    /** Serves `handler` on `host:port` (default 127.0.0.1, port 0 picks one). */
    listen(options?: { port?: number; host?: string }): Promise<SimServer>;
    /**
     * Stops every timer and delivery and closes every server `listen` opened; writes what is left to the state
     * database and closes the connections to it and to the databases' server.
     */
    close(): Promise<void>;
  };

/** An in-memory sim (synchronous controls, made-up database URLs). With real databases or kept state, use `startHerokuSim`. */
export function createHerokuSim(options: HerokuSimOptions = {}): HerokuSim {
  if (options.postgres !== undefined || options.stateUrl !== undefined) {
    throw new Error('a sim with real databases or kept state starts asynchronously: use startHerokuSim');
  }
  const sim = buildSim(options, {});
  sim.applyPreload();
  return sim;
}

/**
 * Starts a sim, with real databases (`postgres`) and kept state (`stateUrl`) when asked: migrates and loads the
 * state, proves the databases' server checks passwords, makes the server agree with the state, then the preload.
 * A problem with either is a `SimStartupError` naming its variable.
 */
export async function startHerokuSim(options: HerokuSimOptions = {}): Promise<HerokuSim> {
  const logger = options.logger ?? createLogger({ app: 'heroku-sim', level: 'silent' });
  let state: PostgresState | undefined;
  let appDatabases: AppDatabaseServer | undefined;
  try {
    if (options.stateUrl !== undefined) state = await PostgresState.open({ url: options.stateUrl });
    if (options.postgres !== undefined) {
      appDatabases = await AppDatabaseServer.open({ ...options.postgres, logger });
      await appDatabases.provePasswordsChecked();
    }
    const loaded = state ? await state.load() : undefined;
    const sim = buildSim({ ...options, logger }, { state, appDatabases, loaded });
    try {
      if (appDatabases) {
        const server = appDatabases;
        const addons = loaded?.store.apps.flatMap((app) => app.addons) ?? [];
        const outcome = await server.reconcile(addons);
        const elsewhere = addons.filter((addon) => !server.owns(addon)).length;
        logger.info({ ...outcome, elsewhere }, 'app databases agree with the kept state');
      }
      await sim.applyPreloadAsync();
      await sim.persisted();
    } catch (err) {
      await sim.close();
      throw err;
    }
    return sim;
  } catch (err) {
    await Promise.allSettled([state?.close(), appDatabases?.close()]);
    throw err;
  }
}

function buildSim(
  options: HerokuSimOptions,
  resources: {
    state?: PostgresState | undefined;
    appDatabases?: AppDatabaseServer | undefined;
    loaded?: { store: StoreSnapshot; oauth: OAuthSnapshot } | undefined;
  },
): HerokuSim {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ app: 'heroku-sim', level: 'silent' });
  const timers = new TimerSet();
  const work = new PendingWork();
  const { state, appDatabases } = resources;
  // Every change of the store and of OAuth grants goes to the state database, when there is one.
  let journal: StateJournal | undefined;
  const onChange: StateChangeListener = (change) => journal?.record(change);
  const store = new Store(clock, onChange);
  if (state) {
    journal = new StateJournal({
      logger,
      write: (changes) =>
        state.write(changes, {
          hasApp: (id) => store.findApp(id) !== undefined,
          hasAccount: (id) => store.getAccount(id) !== undefined,
        }),
    });
  }
  const faults = new FaultState(createRandom(options.seed ?? 1));
  const oauth = new OAuthState({ clock, accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 28_800, onChange });
  if (resources.loaded) {
    store.restore(resources.loaded.store);
    oauth.restore(resources.loaded.oauth);
  }
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
    store.addEvent(app, event);
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
    appDatabases,
    serial: new KeyedSerial(),
  };
  const controls = createControls(ctx, { preload: options.preload });
  const databaseControls = createDatabaseControls(ctx, { preload: options.preload });

  const handler = express();
  handler.disable('x-powered-by');
  handler.set('etag', false);
  if (journal) handler.use(persistBeforeAnswering({ journal, logger }));
  handler.use('/_sim', createControlRouter(ctx, { ...controls, ...databaseControls }));
  handler.use(createOAuthRouter(ctx));
  handler.use(createPlatformRouter(ctx));

  const servers = new Set<SimServer>();
  const persisted = () => journal?.flush() ?? Promise.resolve();
  return {
    ...controls,
    ...databaseControls,
    handler,
    realDatabases: appDatabases !== undefined,
    keepsState: state !== undefined,
    persisted,
    readinessChecks: {
      ...(state ? { state: () => state.ping() } : {}),
      ...(appDatabases ? { databases: () => appDatabases.ping() } : {}),
    },
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
      try {
        await persisted();
      } catch (err) {
        logger.error({ err }, 'could not write the last changes of the sim state');
      }
      await Promise.allSettled([state?.close(), appDatabases?.close()]);
    },
  };
}
