import { fileURLToPath } from 'node:url';
import { ensureDatabase } from '@hds/db';
import { asc, eq } from 'drizzle-orm';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { OAuthSnapshot } from '../oauth/oauth-state.js';
import type { OAuthScope } from '../oauth/scopes.js';
import type { StateChange } from '../state/changes.js';
import type { App, ReleaseStatus, WebhookEvent, WebhookLevel } from '../state/model.js';
import type { StoreSnapshot } from '../state/store.js';
import { SimStartupError } from '../support/startup-error.js';
import * as tables from './schema.js';

/** Resolves to apps/heroku-sim/drizzle from both src/ (tests) and dist/ (built code). */
const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));
/** Arbitrary constant: the advisory lock a migrating sim holds, so two sims starting at once migrate once. */
const MIGRATION_LOCK_KEY = 7_301_942_216;

type Db = PostgresJsDatabase<typeof tables>;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const date = (ms: number) => new Date(ms);
const ms = (value: Date) => value.getTime();

/** Whether the objects a change names still exist: a change to something deleted since is not written. */
export interface Liveness {
  hasApp(appId: string): boolean;
  hasAccount(accountId: string): boolean;
}

/**
 * The sim's state in Postgres (`SIM_STATE_URL`): loaded once at start-up, then every change written through
 * (`write`, called by the `StateJournal`). The tables are migrated at start-up.
 */
export class PostgresState {
  private constructor(
    private readonly sql: postgres.Sql,
    private readonly db: Db,
  ) {}

  /** Creates the database if needed, migrates the tables, connects. Failures name `SIM_STATE_URL`. */
  static async open(input: { url: string }): Promise<PostgresState> {
    const where = new URL(input.url);
    const server = `${where.hostname}:${where.port || '5432'}${where.pathname}`;
    try {
      await ensureDatabase(input.url);
    } catch (err) {
      throw new SimStartupError('SIM_STATE_URL', `cannot reach the Postgres database at ${server} (${String(err)})`);
    }
    // Migrations on one connection of their own, under a session advisory lock (two sims starting at once).
    const migrator = postgres(input.url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
    try {
      await migrator`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
      try {
        await migrate(drizzle({ client: migrator }), {
          migrationsFolder,
          migrationsSchema: 'drizzle',
          migrationsTable: '__heroku_sim_migrations',
        });
      } finally {
        await migrator`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
      }
    } catch (err) {
      throw new SimStartupError('SIM_STATE_URL', `cannot migrate heroku-sim's tables at ${server} (${String(err)})`);
    } finally {
      await migrator.end({ timeout: 5 });
    }
    const sql = postgres(input.url, {
      max: 4,
      onnotice: () => {},
      connect_timeout: 10,
      connection: { application_name: 'heroku-sim state' },
    });
    return new PostgresState(sql, drizzle({ client: sql, schema: tables }));
  }

  /** Everything kept, as the store and the OAuth state take it back. */
  async load(): Promise<{ store: StoreSnapshot; oauth: OAuthSnapshot }> {
    const t = tables;
    const [accountRows, appRows, addonRows, attachmentRows, releaseRows, webhookRows, eventRows] = await Promise.all([
      this.db.select().from(t.accounts).orderBy(asc(t.accounts.seq)),
      this.db.select().from(t.apps).orderBy(asc(t.apps.seq)),
      this.db.select().from(t.addons).orderBy(asc(t.addons.seq)),
      this.db.select().from(t.attachments).orderBy(asc(t.attachments.seq)),
      this.db.select().from(t.releases).orderBy(asc(t.releases.version)),
      this.db.select().from(t.webhooks).orderBy(asc(t.webhooks.seq)),
      this.db.select().from(t.webhookEvents).orderBy(asc(t.webhookEvents.seq)),
    ]);
    const [clientRows, refreshRows, accessRows] = await Promise.all([
      this.db.select().from(t.oauthClients).orderBy(asc(t.oauthClients.seq)),
      this.db.select().from(t.oauthRefreshTokens).orderBy(asc(t.oauthRefreshTokens.seq)),
      this.db.select().from(t.oauthAccessTokens).orderBy(asc(t.oauthAccessTokens.seq)),
    ]);

    const apps = new Map<string, App>();
    for (const row of appRows) {
      apps.set(row.id, {
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
        createdAt: ms(row.createdAt),
        updatedAt: ms(row.updatedAt),
      });
    }
    const appOf = (id: string) => apps.get(id);
    for (const row of addonRows) {
      appOf(row.appId)?.addons.push({
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
        createdAt: ms(row.createdAt),
        updatedAt: ms(row.updatedAt),
      });
    }
    for (const row of attachmentRows) {
      appOf(row.appId)?.attachments.push({
        id: row.id,
        name: row.name,
        addonId: row.addonId,
        createdAt: ms(row.createdAt),
        updatedAt: ms(row.updatedAt),
      });
    }
    for (const row of releaseRows) {
      appOf(row.appId)?.releases.push({
        id: row.id,
        version: row.version,
        description: row.description,
        status: row.status as ReleaseStatus,
        user: row.user,
        config: row.config,
        addonPlanNames: row.addonPlanNames,
        outputStreamUrl: row.outputStreamUrl,
        createdAt: ms(row.createdAt),
        updatedAt: ms(row.updatedAt),
      });
    }
    for (const row of webhookRows) {
      appOf(row.appId)?.webhooks.push({
        id: row.id,
        appId: row.appId,
        include: row.include,
        level: row.level as WebhookLevel,
        url: row.url,
        secret: row.secret,
        authorization: row.authorization,
        createdAt: ms(row.createdAt),
        updatedAt: ms(row.updatedAt),
      });
    }
    for (const row of eventRows) {
      appOf(row.appId)?.events.push({
        id: row.id,
        include: row.include,
        payload: row.payload as WebhookEvent['payload'],
        createdAt: ms(row.createdAt),
        updatedAt: ms(row.updatedAt),
      });
    }
    return {
      store: {
        accounts: accountRows.map((row) => ({
          id: row.id,
          email: row.email,
          apiKey: row.apiKey,
          createdAt: ms(row.createdAt),
        })),
        apps: [...apps.values()],
      },
      oauth: {
        clients: clientRows.map((row) => ({
          id: row.id,
          secret: row.secret,
          redirectUri: row.redirectUri ?? undefined,
          name: row.name,
        })),
        refreshTokens: refreshRows.map((row) => ({
          token: row.token,
          clientId: row.clientId,
          accountId: row.accountId,
          scopes: row.scopes as OAuthScope[],
          revoked: row.revoked,
        })),
        accessTokens: accessRows.map((row) => ({
          token: row.token,
          accountId: row.accountId,
          scopes: row.scopes as OAuthScope[],
          expiresAt: ms(row.expiresAt),
          revoked: row.revoked,
        })),
      },
    };
  }

  /** Writes changes in one transaction, in order; a change to something deleted since is skipped. */
  async write(changes: readonly StateChange[], live: Liveness): Promise<void> {
    if (changes.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const change of changes) await writeChange(tx, change, live);
    });
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}

async function writeChange(tx: Tx, change: StateChange, live: Liveness): Promise<void> {
  const t = tables;
  switch (change.kind) {
    case 'account': {
      const { account } = change;
      if (!live.hasAccount(account.id)) return;
      const row = { id: account.id, email: account.email, apiKey: account.apiKey, createdAt: date(account.createdAt) };
      await tx.insert(t.accounts).values(row).onConflictDoUpdate({ target: t.accounts.id, set: row });
      return;
    }
    case 'app': {
      const { app } = change;
      if (!live.hasApp(app.id)) return;
      const row = {
        id: app.id,
        name: app.name,
        ownerId: app.ownerId,
        maintenance: app.maintenance,
        webSuffix: app.webSuffix,
        config: app.config,
        createdAt: date(app.createdAt),
        updatedAt: date(app.updatedAt),
      };
      await tx.insert(t.apps).values(row).onConflictDoUpdate({ target: t.apps.id, set: row });
      return;
    }
    case 'app-deleted':
      await tx.delete(t.apps).where(eq(t.apps.id, change.appId));
      return;
    case 'addon': {
      const { app, addon } = change;
      if (!live.hasApp(app.id)) return;
      const row = {
        id: addon.id,
        appId: app.id,
        name: addon.name,
        planName: addon.planName,
        providerId: addon.providerId,
        roleName: addon.user,
        password: addon.password,
        host: addon.host,
        port: addon.port,
        databaseName: addon.database,
        createdAt: date(addon.createdAt),
        updatedAt: date(addon.updatedAt),
      };
      await tx.insert(t.addons).values(row).onConflictDoUpdate({ target: t.addons.id, set: row });
      return;
    }
    case 'attachment': {
      const { app, attachment } = change;
      if (!live.hasApp(app.id)) return;
      const row = {
        id: attachment.id,
        appId: app.id,
        name: attachment.name,
        addonId: attachment.addonId,
        createdAt: date(attachment.createdAt),
        updatedAt: date(attachment.updatedAt),
      };
      await tx.insert(t.attachments).values(row).onConflictDoUpdate({ target: t.attachments.id, set: row });
      return;
    }
    case 'release': {
      const { app, release } = change;
      if (!live.hasApp(app.id)) return;
      const row = {
        id: release.id,
        appId: app.id,
        version: release.version,
        description: release.description,
        status: release.status,
        user: release.user,
        config: release.config,
        addonPlanNames: release.addonPlanNames,
        outputStreamUrl: release.outputStreamUrl,
        createdAt: date(release.createdAt),
        updatedAt: date(release.updatedAt),
      };
      await tx.insert(t.releases).values(row).onConflictDoUpdate({ target: t.releases.id, set: row });
      return;
    }
    case 'event': {
      const { app, event } = change;
      if (!live.hasApp(app.id)) return;
      await tx
        .insert(t.webhookEvents)
        .values({
          id: event.id,
          appId: app.id,
          include: event.include,
          payload: event.payload,
          createdAt: date(event.createdAt),
          updatedAt: date(event.updatedAt),
        })
        .onConflictDoNothing();
      return;
    }
    case 'webhook': {
      const { app, webhook } = change;
      if (!live.hasApp(app.id) || !app.webhooks.includes(webhook)) return;
      const row = {
        id: webhook.id,
        appId: app.id,
        include: webhook.include,
        level: webhook.level,
        url: webhook.url,
        secret: webhook.secret,
        authorization: webhook.authorization,
        createdAt: date(webhook.createdAt),
        updatedAt: date(webhook.updatedAt),
      };
      await tx.insert(t.webhooks).values(row).onConflictDoUpdate({ target: t.webhooks.id, set: row });
      return;
    }
    case 'webhook-deleted':
      await tx.delete(t.webhooks).where(eq(t.webhooks.id, change.webhookId));
      return;
    case 'oauth-client': {
      const { client } = change;
      const row = { id: client.id, secret: client.secret, redirectUri: client.redirectUri ?? null, name: client.name };
      await tx.insert(t.oauthClients).values(row).onConflictDoUpdate({ target: t.oauthClients.id, set: row });
      return;
    }
    case 'refresh-token': {
      const { token } = change;
      if (!live.hasAccount(token.accountId)) return;
      const row = {
        token: token.token,
        clientId: token.clientId,
        accountId: token.accountId,
        scopes: token.scopes,
        revoked: token.revoked,
      };
      await tx
        .insert(t.oauthRefreshTokens)
        .values(row)
        .onConflictDoUpdate({ target: t.oauthRefreshTokens.token, set: row });
      return;
    }
    case 'access-token': {
      const { token } = change;
      if (!live.hasAccount(token.accountId)) return;
      const row = {
        token: token.token,
        accountId: token.accountId,
        scopes: token.scopes,
        expiresAt: date(token.expiresAt),
        revoked: token.revoked,
      };
      await tx
        .insert(t.oauthAccessTokens)
        .values(row)
        .onConflictDoUpdate({ target: t.oauthAccessTokens.token, set: row });
      return;
    }
    case 'reset':
      // OAuth clients stay, as in memory; everything else cascades from the accounts.
      await tx.delete(t.accounts);
      return;
    default: {
      const unexpected: never = change;
      throw new Error(`unknown state change ${String(unexpected)}`);
    }
  }
}
