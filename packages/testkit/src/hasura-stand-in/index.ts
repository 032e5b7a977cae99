export {
  startHasuraStandIn,
  type HasuraCall,
  type HasuraMetadata,
  type HasuraStandIn,
  type HasuraStandInOptions,
} from './stand-in.js';
export { DEFAULT_POOL_SETTINGS, type EffectivePoolSettings, type SourceMetadata } from './sources.js';
export { hasuraMetadata, postgresSource, TEST_POOL_SETTINGS } from './metadata-fixture.js';
