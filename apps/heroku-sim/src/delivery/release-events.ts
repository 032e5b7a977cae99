import { eventTime, herokuTime } from '../support/clock.js';
import { newId } from '../support/ids.js';
import type { App, Release, WebhookEvent } from '../state/model.js';

export const RELEASE_INCLUDE = 'api:release';
const API_VERSION = 'application/vnd.heroku+json; version=3';

/** The `data` of an `api:release` event, shaped like Heroku's 2025 deliveries (`events/api-release-*-2025.json`). */
export function releaseEventData(options: { app: App; release: Release; current: boolean }): Record<string, unknown> {
  const { app, release } = options;
  return {
    id: release.id,
    app: { id: app.id, name: app.name, process_tier: 'basic' },
    slug: null,
    user: { id: release.user.id, email: release.user.email },
    stack: 'heroku-24',
    status: release.status,
    current: options.current,
    pstable: {},
    version: release.version,
    artifacts: [],
    created_at: herokuTime(release.createdAt),
    updated_at: herokuTime(release.updatedAt),
    description: release.description,
    addon_plan_names: [...release.addonPlanNames],
    output_stream_url: release.outputStreamUrl,
    eligible_for_rollback: true,
  };
}

/** A new event (its own id) for a release `create` or `update`. */
export function buildReleaseEvent(options: {
  app: App;
  release: Release;
  action: 'create' | 'update';
  current: boolean;
  previousData: Record<string, unknown>;
  now: number;
}): WebhookEvent {
  return {
    id: newId(),
    include: RELEASE_INCLUDE,
    payload: {
      action: options.action,
      actor: { id: options.release.user.id, email: options.release.user.email },
      data: releaseEventData(options),
      previous_data: options.previousData,
      resource: 'release',
      version: API_VERSION,
    },
    createdAt: options.now,
    updatedAt: options.now,
  };
}

/**
 * The raw body of one delivery attempt. The top-level `id` is the event's; each attempt has its own
 * `webhook_metadata.attempt.id`, so each attempt's bytes (and signature) differ.
 */
export function deliveryBody(options: {
  event: WebhookEvent;
  webhookId: string;
  deliveryId: string;
  attemptId: string;
}): string {
  const { event } = options;
  return JSON.stringify({
    id: event.id,
    data: event.payload.data,
    actor: event.payload.actor,
    action: event.payload.action,
    version: event.payload.version,
    resource: event.payload.resource,
    sequence: null,
    created_at: eventTime(event.createdAt),
    updated_at: eventTime(event.updatedAt),
    published_at: herokuTime(event.createdAt),
    previous_data: event.payload.previous_data,
    webhook_metadata: {
      attempt: { id: options.attemptId },
      delivery: { id: options.deliveryId },
      event: { id: event.id, include: event.include },
      webhook: { id: options.webhookId },
    },
  });
}
