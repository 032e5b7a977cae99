// The whole service in one process, for tests (`@hds/testkit/pipeline`; not part of the testkit's build: it runs
// the apps from their sources).
export { OAUTH_CLIENT, Pipeline, type LinkedProject, type PipelineOptions } from './pipeline.js';
