import type { AccessToken, OAuthClient, RefreshToken } from '../oauth/oauth-state.js';
import type { OAuthScope } from '../oauth/scopes.js';
import type {
  Account,
  App,
  Attachment,
  PostgresAddon,
  Release,
  ReleaseStatus,
  Webhook,
  WebhookEvent,
  WebhookLevel,
} from '../state/model.js';
import type * as tables from './schema.js';

/** The sim's objects as rows of its tables, and back. Times are epoch ms in memory, timestamps in the tables. */

type Row<T extends { $inferSelect: unknown }> = T['$inferSelect'];
type NewRow<T extends { $inferInsert: unknown }> = T['$inferInsert'];

const date = (ms: number) => new Date(ms);
const ms = (value: Date) => value.getTime();
const times = (o: { createdAt: number; updatedAt: number }) => ({
  createdAt: date(o.createdAt),
  updatedAt: date(o.updatedAt),
});
const loadedTimes = (row: { createdAt: Date; updatedAt: Date }) => ({
  createdAt: ms(row.createdAt),
  updatedAt: ms(row.updatedAt),
});

export const toRow = {
  account: (a: Account): NewRow<typeof tables.accounts> => ({
    id: a.id,
    email: a.email,
    apiKey: a.apiKey,
    createdAt: date(a.createdAt),
  }),
  app: (a: App): NewRow<typeof tables.apps> => ({
    id: a.id,
    name: a.name,
    ownerId: a.ownerId,
    maintenance: a.maintenance,
    webSuffix: a.webSuffix,
    config: a.config,
    ...times(a),
  }),
  addon: (app: App, a: PostgresAddon): NewRow<typeof tables.addons> => ({
    id: a.id,
    appId: app.id,
    name: a.name,
    planName: a.planName,
    providerId: a.providerId,
    roleName: a.user,
    password: a.password,
    host: a.host,
    port: a.port,
    databaseName: a.database,
    ...times(a),
  }),
  attachment: (app: App, a: Attachment): NewRow<typeof tables.attachments> => ({
    id: a.id,
    appId: app.id,
    name: a.name,
    addonId: a.addonId,
    ...times(a),
  }),
  release: (app: App, r: Release): NewRow<typeof tables.releases> => ({
    id: r.id,
    appId: app.id,
    version: r.version,
    description: r.description,
    status: r.status,
    user: r.user,
    config: r.config,
    addonPlanNames: r.addonPlanNames,
    outputStreamUrl: r.outputStreamUrl,
    ...times(r),
  }),
  event: (app: App, e: WebhookEvent): NewRow<typeof tables.webhookEvents> => ({
    id: e.id,
    appId: app.id,
    include: e.include,
    payload: e.payload,
    ...times(e),
  }),
  webhook: (app: App, w: Webhook): NewRow<typeof tables.webhooks> => ({
    id: w.id,
    appId: app.id,
    include: w.include,
    level: w.level,
    url: w.url,
    secret: w.secret,
    authorization: w.authorization,
    ...times(w),
  }),
  oauthClient: (c: OAuthClient): NewRow<typeof tables.oauthClients> => ({
    id: c.id,
    secret: c.secret,
    redirectUri: c.redirectUri ?? null,
    name: c.name,
  }),
  refreshToken: (t: RefreshToken): NewRow<typeof tables.oauthRefreshTokens> => ({
    token: t.token,
    clientId: t.clientId,
    accountId: t.accountId,
    scopes: t.scopes,
    revoked: t.revoked,
  }),
  accessToken: (t: AccessToken): NewRow<typeof tables.oauthAccessTokens> => ({
    token: t.token,
    accountId: t.accountId,
    scopes: t.scopes,
    expiresAt: date(t.expiresAt),
    revoked: t.revoked,
  }),
};

export const fromRow = {
  account: (row: Row<typeof tables.accounts>): Account => ({
    id: row.id,
    email: row.email,
    apiKey: row.apiKey,
    createdAt: ms(row.createdAt),
  }),
  /** An app without its releases, add-ons, attachments, webhooks and events (they are loaded into it). */
  app: (row: Row<typeof tables.apps>): App => ({
    id: row.id,
    name: row.name,
    ownerId: row.ownerId,
    maintenance: row.maintenance,
    webSuffix: row.webSuffix,
    config: row.config,
    releases: [],
    addons: [],
    attachments: [],
    webhooks: [],
    events: [],
    ...loadedTimes(row),
  }),
  addon: (row: Row<typeof tables.addons>): PostgresAddon => ({
    id: row.id,
    name: row.name,
    service: 'heroku-postgresql',
    planName: row.planName,
    providerId: row.providerId,
    user: row.roleName,
    password: row.password,
    host: row.host,
    port: row.port,
    database: row.databaseName,
    ...loadedTimes(row),
  }),
  attachment: (row: Row<typeof tables.attachments>): Attachment => ({
    id: row.id,
    name: row.name,
    addonId: row.addonId,
    ...loadedTimes(row),
  }),
  release: (row: Row<typeof tables.releases>): Release => ({
    id: row.id,
    version: row.version,
    description: row.description,
    status: row.status as ReleaseStatus,
    user: row.user,
    config: row.config,
    addonPlanNames: row.addonPlanNames,
    outputStreamUrl: row.outputStreamUrl,
    ...loadedTimes(row),
  }),
  event: (row: Row<typeof tables.webhookEvents>): WebhookEvent => ({
    id: row.id,
    include: row.include,
    payload: row.payload as WebhookEvent['payload'],
    ...loadedTimes(row),
  }),
  webhook: (row: Row<typeof tables.webhooks>): Webhook => ({
    id: row.id,
    appId: row.appId,
    include: row.include,
    level: row.level as WebhookLevel,
    url: row.url,
    secret: row.secret,
    authorization: row.authorization,
    ...loadedTimes(row),
  }),
  oauthClient: (row: Row<typeof tables.oauthClients>): OAuthClient => ({
    id: row.id,
    secret: row.secret,
    redirectUri: row.redirectUri ?? undefined,
    name: row.name,
  }),
  refreshToken: (row: Row<typeof tables.oauthRefreshTokens>): RefreshToken => ({
    token: row.token,
    clientId: row.clientId,
    accountId: row.accountId,
    scopes: row.scopes as OAuthScope[],
    revoked: row.revoked,
  }),
  accessToken: (row: Row<typeof tables.oauthAccessTokens>): AccessToken => ({
    token: row.token,
    accountId: row.accountId,
    scopes: row.scopes as OAuthScope[],
    expiresAt: ms(row.expiresAt),
    revoked: row.revoked,
  }),
};
