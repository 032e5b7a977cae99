import { OAUTH_CLIENT, Pipeline } from '@hds/testkit/pipeline';
import { startAdmin, type AdminHarness } from './harness.js';

export interface ConsolePipeline {
  pipeline: Pipeline;
  admin: AdminHarness;
  close(): Promise<void>;
}

/**
 * The whole service in one process (heroku-sim, ingress, queue, worker), with the admin (console, sign-in with
 * Heroku) on the pipeline's database and sim: what the browser tests drive.
 */
export async function startConsolePipeline(): Promise<ConsolePipeline> {
  const pipeline = await Pipeline.start({
    sim: { retryScheduleMs: [100, 500, 1000] },
    concurrency: 4,
    poolSize: 10,
    reconcileTickMs: 60_000,
    sync: { reconcileMinIntervalMs: 60_000 },
  });
  const oauth = { clientId: OAUTH_CLIENT.id, clientSecret: OAUTH_CLIENT.secret };
  const admin = await startAdmin({
    database: pipeline.database,
    testRedis: pipeline.redis,
    herokuApiUrl: pipeline.simUrl,
    oauth: { ...oauth, oauthUrl: pipeline.simUrl, browserUrl: pipeline.simUrl },
    sync: { webhooks: pipeline.webhooks },
  });
  return {
    pipeline,
    admin,
    close: async () => {
      await admin.close();
      await pipeline.close();
    },
  };
}
