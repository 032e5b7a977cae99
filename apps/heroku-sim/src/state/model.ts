/** The sim's in-memory state. Times are epoch milliseconds; serializers turn them into Heroku's shapes. */

export interface Account {
  id: string;
  email: string;
  apiKey: string;
  createdAt: number;
}

export const releaseStatuses = ['pending', 'succeeded', 'failed', 'expired'] as const;
export type ReleaseStatus = (typeof releaseStatuses)[number];

/** Who made a release or caused an event: an account or an add-on's system user. */
export interface Actor {
  id: string;
  email: string;
}

export interface Release {
  id: string;
  version: number;
  description: string;
  status: ReleaseStatus;
  user: Actor;
  /** The app's config as of this release. */
  config: Record<string, string>;
  addonPlanNames: string[];
  outputStreamUrl: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Where a Heroku Postgres database is and how to log in: what its `DATABASE_URL` says. */
export interface DatabaseCredentials {
  /** The login role. */
  user: string;
  password: string;
  host: string;
  port: number;
  database: string;
}

/** A Heroku Postgres add-on: one database with its credentials. */
export interface PostgresAddon extends DatabaseCredentials {
  id: string;
  name: string;
  service: 'heroku-postgresql';
  planName: string;
  providerId: string;
  createdAt: number;
  updatedAt: number;
}

/** An add-on attached to the app under `name`; it provides the config var `${name}_URL`. */
export interface Attachment {
  id: string;
  name: string;
  addonId: string;
  createdAt: number;
  updatedAt: number;
}

export const webhookLevels = ['notify', 'sync'] as const;
export type WebhookLevel = (typeof webhookLevels)[number];

export interface Webhook {
  id: string;
  appId: string;
  include: string[];
  level: WebhookLevel;
  url: string;
  secret: string;
  authorization: string | null;
  createdAt: number;
  updatedAt: number;
}

/** One event Heroku published for an app (what `GET /apps/{app}/webhook-events` lists). */
export interface WebhookEvent {
  id: string;
  include: string;
  payload: {
    action: string;
    actor: Actor;
    data: Record<string, unknown>;
    previous_data: Record<string, unknown>;
    resource: string;
    version: string;
  };
  createdAt: number;
  updatedAt: number;
}

export interface App {
  id: string;
  name: string;
  ownerId: string;
  /** `PATCH /apps/{app} {maintenance}`: kept, shown in the app's answers; the sim serves no traffic to block. */
  maintenance: boolean;
  /** The random part of `web_url` (`https://<name>-<suffix>.herokuapp.com/`). */
  webSuffix: string;
  config: Record<string, string>;
  releases: Release[];
  addons: PostgresAddon[];
  attachments: Attachment[];
  webhooks: Webhook[];
  events: WebhookEvent[];
  createdAt: number;
  updatedAt: number;
}
