export {
  createHerokuSim,
  startHerokuSim,
  DEFAULT_RETRY_SCHEDULE_MS,
  type HerokuSim,
  type HerokuSimOptions,
  type SimServer,
} from './sim.js';
export type {
  DeliveryFilter,
  SimAccount,
  SimAppCreated,
  SimControls,
  SimPreload,
  SimWebhookView,
} from './control/controls.js';
export type { SimDatabaseControls } from './control/database-controls.js';
export type { SeedResult } from './databases/app-database-server.js';
export { SEED_TABLES, type SeedTable } from './databases/seed-schema.js';
export { SimStartupError } from './support/startup-error.js';
export type { DeliveryView } from './delivery/delivery-record.js';
export type { Faults, FaultsInput } from './faults/faults.js';
export type { RecordedRequest, RequestFilter } from './api/request-log.js';
export type { ReleasePhase } from './state/releases.js';
export type { Clock } from './support/clock.js';
export { createRandom, type Random } from './support/prng.js';
