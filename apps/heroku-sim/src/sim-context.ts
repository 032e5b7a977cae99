import type { Logger } from 'pino';
import type { RateLimiter } from './api/rate-limiter.js';
import type { RequestLog } from './api/request-log.js';
import type { DeliveryEngine } from './delivery/delivery-engine.js';
import type { FaultState } from './faults/faults.js';
import type { OAuthState } from './oauth/oauth-state.js';
import type { Releases } from './state/releases.js';
import type { Store } from './state/store.js';
import type { Clock } from './support/clock.js';
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
}
