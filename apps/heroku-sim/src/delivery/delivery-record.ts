import { herokuTime } from '../support/clock.js';
import type { WebhookLevel } from '../state/model.js';

export type DeliveryStatus = 'pending' | 'held' | 'scheduled' | 'retrying' | 'succeeded' | 'failed' | 'dropped';
export type DeliveryFault = 'dropped' | 'duplicated' | 'delayed' | 'held';

/** One POST of a delivery. `status` is the receiver's HTTP status, or null when the request failed. */
export interface DeliveryAttempt {
  id: string;
  startedAt: number;
  status: number | null;
  error: string | null;
  durationMs: number;
  /** The second, identical copy sent by the `duplicate` fault. */
  duplicate: boolean;
}

/** A delivery of one event to one webhook, with every attempt made. */
export interface DeliveryRecord {
  id: string;
  /** Order of creation (the `seq` range field the Heroku CLI pages deliveries by). */
  seq: number;
  webhookId: string;
  appId: string;
  appName: string;
  eventId: string;
  include: string;
  action: string;
  releaseVersion: number | undefined;
  releaseStatus: string | undefined;
  level: WebhookLevel;
  url: string;
  status: DeliveryStatus;
  faults: DeliveryFault[];
  attempts: DeliveryAttempt[];
  createdAt: number;
  updatedAt: number;
  nextAttemptAt: number | null;
}

/** The `/_sim/deliveries` view of a record (times as ISO strings). */
export function deliveryView(record: DeliveryRecord) {
  return {
    id: record.id,
    webhookId: record.webhookId,
    app: { id: record.appId, name: record.appName },
    eventId: record.eventId,
    include: record.include,
    action: record.action,
    releaseVersion: record.releaseVersion ?? null,
    releaseStatus: record.releaseStatus ?? null,
    level: record.level,
    url: record.url,
    status: record.status,
    faults: [...record.faults],
    attempts: record.attempts.map((a) => ({
      id: a.id,
      at: new Date(a.startedAt).toISOString(),
      status: a.status,
      error: a.error,
      durationMs: a.durationMs,
      duplicate: a.duplicate,
    })),
    createdAt: herokuTime(record.createdAt),
    nextAttemptAt: record.nextAttemptAt === null ? null : new Date(record.nextAttemptAt).toISOString(),
  };
}
export type DeliveryView = ReturnType<typeof deliveryView>;
