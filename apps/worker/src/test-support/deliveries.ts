import type { Pipeline } from '@hds/testkit/pipeline';
import { waitFor } from '@hds/testkit';
import type { DeliveryView } from '@hds/destinations';

/** The body of a received webhook. */
export const payload = (raw: string) =>
  JSON.parse(raw) as {
    type: string;
    data: { name?: string; value?: string; releaseVersion?: number | null; fingerprint?: string };
  };

/** Waits until the destination's newest deliveries satisfy `done` (the worker records after the receiver answered). */
export function waitForDeliveries(
  pipeline: Pipeline,
  where: { projectId: string; destinationId: string },
  done: (deliveries: DeliveryView[]) => boolean,
  timeoutMs = 10_000,
): Promise<DeliveryView[]> {
  return waitFor(
    async () => {
      const rows = await pipeline.destinations.listDeliveries(where.projectId, where.destinationId, 200);
      return done(rows) && rows;
    },
    { timeoutMs, what: 'the deliveries to settle' },
  );
}

/** A project with one env var and a webhook destination (value included) pointing at `url`. */
export async function projectWithWebhook(
  pipeline: Pipeline,
  url: string,
  env: Record<string, string> = { DATABASE_URL: 'postgres://u:v0@db.example/app' },
): Promise<{ projectId: string; destinationId: string; secret: string }> {
  const project = await pipeline.sync.createProject({ name: 'dest', env });
  const destination = await pipeline.destinations.create({
    projectId: project.id,
    kind: 'webhook',
    body: { url, includeValue: true },
  });
  return { projectId: project.id, destinationId: destination.id, secret: destination.shownOnce.secret! };
}
