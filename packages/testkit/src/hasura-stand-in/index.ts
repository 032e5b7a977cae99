export {
  startHasuraStandIn,
  type HasuraCall,
  type HasuraMetadata,
  type HasuraStandIn,
  type HasuraStandInOptions,
} from './stand-in.js';
export { DEFAULT_POOL_SETTINGS, type EffectivePoolSettings, type SourceMetadata } from './sources.js';
