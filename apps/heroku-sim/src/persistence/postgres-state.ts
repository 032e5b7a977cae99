import { fileURLToPath } from 'node:url';
import { ensureDatabase } from '@hds/db';
import { asc, eq } from 'drizzle-orm';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { PgColumn, PgInsertValue, PgTable } from 'drizzle-orm/pg-core';
import type { OAuthSnapshot } from '../oauth/oauth-state.js';
import type { StateChange } from '../state/changes.js';
import type { StoreSnapshot } from '../state/store.js';
import { SimStartupError } from '../support/startup-error.js';
import { fromRow, toRow } from './rows.js';
import * as tables from './schema.js';

/** Resolves to apps/heroku-sim/drizzle from both src/ (tests) and dist/ (built code). */
const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));
/** Arbitrary constant: the advisory lock a migrating sim holds, so two sims starting at once migrate once. */
const MIGRATION_LOCK_KEY = 7_301_942_216;

type Db = PostgresJsDatabase<typeof tables>;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

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
    const db = this.db;
    const [accounts, appRows, addons, attachments, releases, webhooks, events, clients, refreshTokens, accessTokens] =
      await Promise.all([
        db.select().from(t.accounts).orderBy(asc(t.accounts.seq)),
        db.select().from(t.apps).orderBy(asc(t.apps.seq)),
        db.select().from(t.addons).orderBy(asc(t.addons.seq)),
        db.select().from(t.attachments).orderBy(asc(t.attachments.seq)),
        db.select().from(t.releases).orderBy(asc(t.releases.version)),
        db.select().from(t.webhooks).orderBy(asc(t.webhooks.seq)),
        db.select().from(t.webhookEvents).orderBy(asc(t.webhookEvents.seq)),
        db.select().from(t.oauthClients).orderBy(asc(t.oauthClients.seq)),
        db.select().from(t.oauthRefreshTokens).orderBy(asc(t.oauthRefreshTokens.seq)),
        db.select().from(t.oauthAccessTokens).orderBy(asc(t.oauthAccessTokens.seq)),
      ]);
    const apps = new Map(appRows.map((row) => [row.id, fromRow.app(row)]));
    for (const row of addons) apps.get(row.appId)?.addons.push(fromRow.addon(row));
    for (const row of attachments) apps.get(row.appId)?.attachments.push(fromRow.attachment(row));
    for (const row of releases) apps.get(row.appId)?.releases.push(fromRow.release(row));
    for (const row of webhooks) apps.get(row.appId)?.webhooks.push(fromRow.webhook(row));
    for (const row of events) apps.get(row.appId)?.events.push(fromRow.event(row));
    return {
      store: { accounts: accounts.map(fromRow.account), apps: [...apps.values()] },
      oauth: {
        clients: clients.map(fromRow.oauthClient),
        refreshTokens: refreshTokens.map(fromRow.refreshToken),
        accessTokens: accessTokens.map(fromRow.accessToken),
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

  /** Resolves when the database answers (the sim's `/readyz`). */
  async ping(): Promise<void> {
    await this.sql`select 1`;
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}

/** Inserts `row`, or updates every column of the row with its key. */
async function upsert<T extends PgTable>(tx: Tx, table: T, key: PgColumn, row: PgInsertValue<T>): Promise<void> {
  await tx.insert(table).values(row).onConflictDoUpdate({ target: key, set: row });
}

async function writeChange(tx: Tx, change: StateChange, live: Liveness): Promise<void> {
  const t = tables;
  switch (change.kind) {
    case 'account':
      if (live.hasAccount(change.account.id))
        await upsert(tx, t.accounts, t.accounts.id, toRow.account(change.account));
      return;
    case 'app':
      if (live.hasApp(change.app.id)) await upsert(tx, t.apps, t.apps.id, toRow.app(change.app));
      return;
    case 'app-deleted':
      await tx.delete(t.apps).where(eq(t.apps.id, change.appId));
      return;
    case 'addon':
      if (live.hasApp(change.app.id)) await upsert(tx, t.addons, t.addons.id, toRow.addon(change.app, change.addon));
      return;
    case 'attachment':
      if (!live.hasApp(change.app.id)) return;
      await upsert(tx, t.attachments, t.attachments.id, toRow.attachment(change.app, change.attachment));
      return;
    case 'release':
      if (!live.hasApp(change.app.id)) return;
      await upsert(tx, t.releases, t.releases.id, toRow.release(change.app, change.release));
      return;
    case 'event':
      if (!live.hasApp(change.app.id)) return;
      await tx.insert(t.webhookEvents).values(toRow.event(change.app, change.event)).onConflictDoNothing();
      return;
    case 'webhook':
      // A webhook deleted since is written by its deletion.
      if (!live.hasApp(change.app.id) || !change.app.webhooks.includes(change.webhook)) return;
      await upsert(tx, t.webhooks, t.webhooks.id, toRow.webhook(change.app, change.webhook));
      return;
    case 'webhook-deleted':
      await tx.delete(t.webhooks).where(eq(t.webhooks.id, change.webhookId));
      return;
    case 'oauth-client':
      await upsert(tx, t.oauthClients, t.oauthClients.id, toRow.oauthClient(change.client));
      return;
    case 'refresh-token':
      if (!live.hasAccount(change.token.accountId)) return;
      await upsert(tx, t.oauthRefreshTokens, t.oauthRefreshTokens.token, toRow.refreshToken(change.token));
      return;
    case 'access-token':
      if (!live.hasAccount(change.token.accountId)) return;
      await upsert(tx, t.oauthAccessTokens, t.oauthAccessTokens.token, toRow.accessToken(change.token));
      return;
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
