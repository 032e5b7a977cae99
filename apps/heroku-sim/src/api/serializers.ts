import { herokuTime } from '../support/clock.js';
import { POSTGRES_PLAN, POSTGRES_SERVICE, attachmentVar } from '../state/databases.js';
import type { Account, App, Attachment, PostgresAddon, Release, Webhook, WebhookEvent } from '../state/model.js';
import type { DeliveryRecord } from '../delivery/delivery-record.js';

/**
 * Resources in the shapes of the Platform API schema (`../shared/heroku/platform-api-schema.json`): every
 * property the schema lists is present (null where Heroku answers null), nothing else.
 */

const STACK = { id: 'ae5a0e9f-1ee8-4b8e-8a1f-8d6e1e3b2a11', name: 'heroku-24' };
const REGION = { id: '59accabd-516d-4f0e-83e6-6e3757701145', name: 'us' };
const GENERATION = { id: '25a7bd9c-2f5e-4f5c-8a1a-9b2e3f4c5d6e', name: 'cedar' };

export function serializeAccount(account: Account) {
  const at = herokuTime(account.createdAt);
  return {
    allow_tracking: true,
    beta: false,
    created_at: at,
    email: account.email,
    federated: false,
    id: account.id,
    identity_provider: null,
    last_login: at,
    name: null,
    sms_number: null,
    suspended_at: null,
    delinquent_at: null,
    two_factor_authentication: false,
    updated_at: at,
    verified: false,
    country_of_residence: null,
    default_organization: null,
    default_team: null,
  };
}

export function serializeApp(app: App, owner: Account, current: Release | undefined) {
  return {
    acm: false,
    archived_at: null,
    buildpack_provided_description: null,
    build_stack: STACK,
    created_at: herokuTime(app.createdAt),
    generation: GENERATION,
    git_url: `https://git.heroku.com/${app.name}.git`,
    id: app.id,
    internal_routing: null,
    maintenance: app.maintenance,
    name: app.name,
    owner: { email: owner.email, id: owner.id },
    organization: null,
    team: null,
    region: REGION,
    released_at: current ? herokuTime(current.createdAt) : null,
    repo_size: null,
    slug_size: null,
    space: null,
    stack: STACK,
    updated_at: herokuTime(app.updatedAt),
    web_url: `https://${app.name}-${app.webSuffix}.herokuapp.com/`,
  };
}

export function serializeRelease(app: App, release: Release, current: Release | undefined) {
  return {
    addon_plan_names: [...release.addonPlanNames],
    artifacts: [],
    app: { id: app.id, name: app.name },
    created_at: herokuTime(release.createdAt),
    description: release.description,
    id: release.id,
    updated_at: herokuTime(release.updatedAt),
    slug: null,
    status: release.status,
    user: { id: release.user.id, email: release.user.email },
    version: release.version,
    current: current?.id === release.id,
    output_stream_url: release.outputStreamUrl,
    eligible_for_rollback: current?.id !== release.id && release.status === 'succeeded',
  };
}

export function serializeAddon(app: App, addon: PostgresAddon) {
  return {
    actions: [],
    addon_service: { id: POSTGRES_SERVICE.id, name: POSTGRES_SERVICE.name },
    billing_entity: { id: app.id, name: app.name, type: 'app' },
    app: { id: app.id, name: app.name },
    billed_price: { cents: 500, contract: false, unit: 'month' },
    config_vars: app.attachments.filter((a) => a.addonId === addon.id).map((a) => attachmentVar(a.name)),
    created_at: herokuTime(addon.createdAt),
    id: addon.id,
    name: addon.name,
    plan: { id: POSTGRES_PLAN.id, name: addon.planName },
    provider_id: addon.providerId,
    state: 'provisioned',
    updated_at: herokuTime(addon.updatedAt),
    web_url: `https://data.heroku.com/datastores/${addon.id}`,
  };
}

export function serializeAttachment(app: App, attachment: Attachment, addon: PostgresAddon) {
  return {
    addon: { id: addon.id, name: addon.name, app: { id: app.id, name: app.name } },
    app: { id: app.id, name: app.name },
    created_at: herokuTime(attachment.createdAt),
    id: attachment.id,
    name: attachment.name,
    namespace: null,
    updated_at: herokuTime(attachment.updatedAt),
    web_url: `https://data.heroku.com/datastores/${addon.id}`,
    log_input_url: null,
  };
}

/** The secret and authorization are never shown after creation, as on Heroku. */
export function serializeWebhook(app: App, webhook: Webhook) {
  return {
    app: { id: app.id, name: app.name },
    created_at: herokuTime(webhook.createdAt),
    id: webhook.id,
    include: [...webhook.include],
    level: webhook.level,
    updated_at: herokuTime(webhook.updatedAt),
    url: webhook.url,
  };
}

export function serializeWebhookEvent(event: WebhookEvent) {
  return {
    created_at: herokuTime(event.createdAt),
    id: event.id,
    include: event.include,
    payload: event.payload,
    updated_at: herokuTime(event.updatedAt),
  };
}

export function serializeWebhookDelivery(delivery: DeliveryRecord) {
  const last = delivery.attempts[delivery.attempts.length - 1];
  return {
    created_at: herokuTime(delivery.createdAt),
    event: { id: delivery.eventId, include: delivery.include },
    id: delivery.id,
    num_attempts: delivery.attempts.length,
    next_attempt_at: delivery.nextAttemptAt === null ? null : herokuTime(delivery.nextAttemptAt),
    last_attempt: last
      ? {
          id: last.id,
          code: last.status,
          error_class: last.error === null ? null : 'Heroku::Webhooks::DeliveryError',
          status: last.status !== null && last.status >= 200 && last.status < 300 ? 'succeeded' : 'failed',
          created_at: herokuTime(last.startedAt),
          updated_at: herokuTime(last.startedAt + last.durationMs),
        }
      : null,
    status: herokuDeliveryStatus(delivery),
    updated_at: herokuTime(delivery.updatedAt),
    webhook: { id: delivery.webhookId, level: delivery.level },
  };
}

/** Heroku's delivery statuses; a dropped delivery is one Heroku gave up on. */
function herokuDeliveryStatus(delivery: DeliveryRecord): 'pending' | 'scheduled' | 'retrying' | 'failed' | 'succeeded' {
  switch (delivery.status) {
    case 'pending':
    case 'held':
      return 'pending';
    case 'scheduled':
      return 'scheduled';
    case 'retrying':
      return 'retrying';
    case 'succeeded':
      return 'succeeded';
    case 'failed':
    case 'dropped':
      return 'failed';
    default: {
      const unexpected: never = delivery.status;
      throw new Error(`unknown delivery status ${String(unexpected)}`);
    }
  }
}
