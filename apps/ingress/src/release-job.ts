import type { ReleaseEvent } from '@hds/heroku';
import type { JobData } from '@hds/queue';

/**
 * The `release-event` job for a verified release delivery: ids, version and status only. The body's e-mails,
 * descriptions and everything else stay out of Redis.
 */
export function releaseJobData(options: {
  event: ReleaseEvent;
  linkId: string;
  receivedAt: number;
}): JobData<'release-event'> {
  const { event } = options;
  return {
    eventId: event.id,
    linkId: options.linkId,
    appId: event.data.app.id,
    version: event.data.version,
    status: event.data.status,
    action: event.action,
    receivedAt: options.receivedAt,
  };
}
