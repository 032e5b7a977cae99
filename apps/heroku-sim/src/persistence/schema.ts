import { bigint, boolean, integer, jsonb, pgSchema, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';

/**
 * heroku-sim's own tables (`SIM_STATE_URL`), in the schema `heroku_sim` so they may share a database with anything.
 * `seq` keeps the order things were made in (lists answer in that order). Times are those the API shows,
 * `released_at` included (the newest succeeded release's `created_at`). Credentials are kept in clear: the sim
 * is for local development and tests only.
 */
export const simSchema = pgSchema('heroku_sim');

const time = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });
const seq = () => bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity();

export const accounts = simSchema.table('accounts', {
  id: uuid('id').primaryKey(),
  email: text('email').notNull().unique(),
  apiKey: text('api_key').notNull().unique(),
  createdAt: time('created_at').notNull(),
  seq: seq(),
});

export const apps = simSchema.table('apps', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull().unique(),
  ownerId: uuid('owner_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  maintenance: boolean('maintenance').notNull().default(false),
  webSuffix: text('web_suffix').notNull(),
  config: jsonb('config').$type<Record<string, string>>().notNull(),
  createdAt: time('created_at').notNull(),
  updatedAt: time('updated_at').notNull(),
  seq: seq(),
});

const appId = () =>
  uuid('app_id')
    .notNull()
    .references(() => apps.id, { onDelete: 'cascade' });

/** Heroku Postgres add-ons: with real databases `role_name` and `database_name` exist on `SIM_POSTGRES_URL`. */
export const addons = simSchema.table('addons', {
  id: uuid('id').primaryKey(),
  appId: appId(),
  name: text('name').notNull(),
  planName: text('plan_name').notNull(),
  providerId: text('provider_id').notNull(),
  roleName: text('role_name').notNull(),
  password: text('password').notNull(),
  host: text('host').notNull(),
  port: integer('port').notNull(),
  databaseName: text('database_name').notNull(),
  createdAt: time('created_at').notNull(),
  updatedAt: time('updated_at').notNull(),
  seq: seq(),
});

export const attachments = simSchema.table('attachments', {
  id: uuid('id').primaryKey(),
  appId: appId(),
  name: text('name').notNull(),
  addonId: uuid('addon_id')
    .notNull()
    .references(() => addons.id, { onDelete: 'cascade' }),
  createdAt: time('created_at').notNull(),
  updatedAt: time('updated_at').notNull(),
  seq: seq(),
});

export const releases = simSchema.table(
  'releases',
  {
    id: uuid('id').primaryKey(),
    appId: appId(),
    version: integer('version').notNull(),
    description: text('description').notNull(),
    status: text('status').notNull(),
    user: jsonb('user').$type<{ id: string; email: string }>().notNull(),
    /** The app's config as of this release. */
    config: jsonb('config').$type<Record<string, string>>().notNull(),
    addonPlanNames: text('addon_plan_names').array().notNull(),
    outputStreamUrl: text('output_stream_url'),
    createdAt: time('created_at').notNull(),
    updatedAt: time('updated_at').notNull(),
  },
  (t) => [unique('releases_app_version_key').on(t.appId, t.version)],
);

export const webhooks = simSchema.table('webhooks', {
  id: uuid('id').primaryKey(),
  appId: appId(),
  include: text('include').array().notNull(),
  level: text('level').notNull(),
  url: text('url').notNull(),
  secret: text('secret').notNull(),
  authorization: text('authorization'),
  createdAt: time('created_at').notNull(),
  updatedAt: time('updated_at').notNull(),
  seq: seq(),
});

/** The events `GET /apps/{app}/webhook-events` lists (deliveries and their attempts are not kept). */
export const webhookEvents = simSchema.table('webhook_events', {
  id: uuid('id').primaryKey(),
  appId: appId(),
  include: text('include').notNull(),
  payload: jsonb('payload').notNull(),
  createdAt: time('created_at').notNull(),
  updatedAt: time('updated_at').notNull(),
  seq: seq(),
});

export const oauthClients = simSchema.table('oauth_clients', {
  id: text('id').primaryKey(),
  secret: text('secret').notNull(),
  redirectUri: text('redirect_uri'),
  name: text('name').notNull(),
  seq: seq(),
});

/** OAuth grants: the refresh tokens issued for a code, and the access tokens issued with them. */
export const oauthRefreshTokens = simSchema.table('oauth_refresh_tokens', {
  token: text('token').primaryKey(),
  clientId: text('client_id').notNull(),
  accountId: uuid('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  scopes: text('scopes').array().notNull(),
  revoked: boolean('revoked').notNull(),
  seq: seq(),
});

export const oauthAccessTokens = simSchema.table('oauth_access_tokens', {
  token: text('token').primaryKey(),
  accountId: uuid('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  scopes: text('scopes').array().notNull(),
  expiresAt: time('expires_at').notNull(),
  revoked: boolean('revoked').notNull(),
  seq: seq(),
});
