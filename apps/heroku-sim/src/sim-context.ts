import type { Logger } from '@hds/core';
import type { RateLimiter } from './api/rate-limiter.js';
import type { RequestLog } from './api/request-log.js';
import type { AppDatabaseServer } from './databases/app-database-server.js';
import type { DeliveryEngine } from './delivery/delivery-engine.js';
import type { FaultState } from './faults/faults.js';
import type { OAuthState } from './oauth/oauth-state.js';
import type { Releases } from './state/releases.js';
import type { Store } from './state/store.js';
import type { Clock } from './support/clock.js';
import type { KeyedSerial } from './support/keyed-serial.js';
import type { PendingWork } from './support/pending-work.js';
import type { TimerSet } from './support/timers.js';

/** Everything the routers share: state, the delivery engine and the fault settings. */
export interface SimContext {
  store: Store;
  oauth: OAuthState;
  releases: Releases;
  deliveries: DeliveryEngine;
  faults: FaultState;
  rateLimiter: RateLimiter;
  requestLog: RequestLog;
  clock: Clock;
  timers: TimerSet;
  work: PendingWork;
  logger: Logger;
  /** How a browser reaches the sim (for the OAuth pages); relative links when unset. */
  publicUrl: string | undefined;
  /** The server with the apps' real databases (`SIM_POSTGRES_URL`); without it URLs name hosts that do not exist. */
  appDatabases: AppDatabaseServer | undefined;
  /** Work on one database (a rotation, a seed) runs one at a time. */
  serial: KeyedSerial;
}
