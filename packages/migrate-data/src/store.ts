import {
  dataMigrationTargetContext,
  dataMigrations,
  type DataMigrationState,
  type DataMigrationTable,
  type DbOrTx,
} from '@hds/db';
import type { SyncService } from '@hds/sync';
import { and, eq, sql } from 'drizzle-orm';

export type MigrationRow = typeof dataMigrations.$inferSelect;

/** The states a migration ends in. */
export const FINISHED_STATES: readonly DataMigrationState[] = ['done', 'failed', 'cancelled'];
export const isFinished = (state: DataMigrationState) => FINISHED_STATES.includes(state);

/** The target URL's ciphertext is bound to its migration. */
export const targetUrlContext = dataMigrationTargetContext;

export async function loadMigration(db: DbOrTx, id: string): Promise<MigrationRow | undefined> {
  const [row] = await db.select().from(dataMigrations).where(eq(dataMigrations.id, id));
  return row;
}

/** Tells the console's open project page (server-sent events) that something changed. */
async function notifyProject(db: DbOrTx, projectId: string): Promise<void> {
  await db.execute(sql`select pg_notify('project_changed', ${projectId})`);
}

/** Moves a migration on; never out of a finished state. */
export async function updateMigration(
  db: DbOrTx,
  row: Pick<MigrationRow, 'id' | 'projectId'>,
  changes: Partial<
    Pick<
      MigrationRow,
      | 'state'
      | 'tables'
      | 'bytesCopied'
      | 'bytesTotal'
      | 'targetBaseline'
      | 'maintenanceOn'
      | 'error'
      | 'cutoverAt'
      | 'finishedAt'
    >
  >,
): Promise<void> {
  await db
    .update(dataMigrations)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(and(eq(dataMigrations.id, row.id), sql`${dataMigrations.state} not in ('done', 'failed', 'cancelled')`));
  await notifyProject(db, row.projectId);
}

/** Progress as it is stored and shown. */
export function progressOf(tables: readonly DataMigrationTable[]): { rows: number; rowsCopied: number } {
  return {
    rows: tables.reduce((n, t) => n + t.rows, 0),
    rowsCopied: tables.reduce((n, t) => n + t.rowsCopied, 0),
  };
}

/**
 * Puts the project's Heroku app in maintenance mode or takes it out (`PATCH /apps/{app}`), then records on the
 * migration whether it has the app in maintenance mode: in any state (a finished one too), so a retry or a clean-up
 * knows what is left to undo.
 */
export async function setAppMaintenance(
  sync: SyncService,
  options: { link: { accountId: string; appId: string }; migrationId: string; on: boolean },
): Promise<void> {
  const { link, migrationId, on } = options;
  await sync.credentials.client(link.accountId).setMaintenance(link.appId, on);
  await sync.ctx.db
    .update(dataMigrations)
    .set({ maintenanceOn: on, updatedAt: sql`now()` })
    .where(eq(dataMigrations.id, migrationId));
}
