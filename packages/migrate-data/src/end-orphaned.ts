import { scrubSecrets } from '@hds/core';
import { dataMigrations, type DataMigrationState } from '@hds/db';
import { findLinkByProject, type SyncService } from '@hds/sync';
import { eq, sql } from 'drizzle-orm';
import { dropCreated, type Baseline } from './catalog.js';
import { connectDatabase } from './connect.js';
import type { PreflightSettings } from './preflight.js';
import { isFinished, setAppMaintenance, targetUrlContext, updateMigration } from './store.js';

const messageOf = (err: unknown) => scrubSecrets(err instanceof Error ? err.message : String(err)).slice(0, 500);

/**
 * Ends a migration that nothing runs any more, as `runMigration` ends one that fails: its job failed for good
 * without reaching `runMigration`'s clean-up (stalled more often than BullMQ allows, its lock lost, the clean-up
 * itself failing), or the job is gone from the queue. The migration is marked failed with `reason` (cancelled, when
 * a cancel was asked for), then the app is taken out of maintenance mode and what the migration created on the
 * target is dropped. A migration that cut over is done and never ends here.
 *
 * It is marked first, in one transaction with the row locked: an attempt still running somewhere (a worker that
 * lost its lock but not its connections) sees the migration ended, stops and drops what it created itself, and it
 * can no longer cut over (the cut-over locks the row and checks its state). What cannot be cleaned up (the target
 * or Heroku not answering) is added to the error, saying what is left to do by hand.
 *
 * Returns the migration's state and error after, or `undefined` when there is no such migration. One already
 * finished is left as it is (only the app is taken out of maintenance mode when it was left in it).
 */
export async function endOrphaned(options: {
  sync: SyncService;
  settings: Pick<PreflightSettings, 'checkTarget'>;
  migrationId: string;
  /** The error the migration ends with (unless it ends cancelled). */
  reason: string;
}): Promise<{ state: DataMigrationState; error: string | null } | undefined> {
  const { sync } = options;
  const { db, keyring } = sync.ctx;
  const ended = await db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(dataMigrations)
      .where(eq(dataMigrations.id, options.migrationId))
      .for('update');
    if (!row) return undefined;
    if (isFinished(row.state)) return { row, now: false };
    const state: DataMigrationState = row.cancelRequested ? 'cancelled' : 'failed';
    const error = row.cancelRequested ? null : scrubSecrets(options.reason).slice(0, 2000);
    await updateMigration(tx, row, { state, error, finishedAt: new Date() });
    return { row: { ...row, state, error }, now: true };
  });
  if (!ended) return undefined;
  const { row } = ended;
  const problems: string[] = [];

  if (ended.now && row.targetBaseline) {
    const targetUrl = keyring.decrypt(row.targetUrlEncrypted, targetUrlContext(row.id));
    try {
      await options.settings.checkTarget(targetUrl);
      const target = connectDatabase(targetUrl, { role: 'target', max: 1 });
      try {
        await dropCreated(target, row.targetBaseline as Baseline);
      } finally {
        await target.end({ timeout: 2 });
      }
    } catch (err) {
      problems.push(
        `what the migration created on the target could not be dropped (${messageOf(err)}): drop it by hand`,
      );
    }
  }

  // On, or maybe on: a worker that died between turning it on and recording that.
  const maintenance = row.maintenanceOn || (ended.now && row.maintenance && row.targetBaseline !== null);
  if (maintenance) {
    const link = await findLinkByProject(db, row.projectId);
    if (!link || link.id !== row.linkId) {
      if (row.maintenanceOn)
        problems.push("the project's sync is gone: take the Heroku app out of maintenance mode by hand");
    } else {
      try {
        await setAppMaintenance(sync, { link, migrationId: row.id, on: false });
      } catch (err) {
        problems.push(`the Heroku app could not be taken out of maintenance mode (${messageOf(err)}): do it by hand`);
      }
    }
  }

  if (problems.length === 0) return { state: row.state, error: row.error };
  const error = [row.error ?? `the migration is ${row.state}`, ...problems].join('; ').slice(0, 2000);
  await db
    .update(dataMigrations)
    .set({ error, updatedAt: sql`now()` })
    .where(eq(dataMigrations.id, row.id));
  return { state: row.state, error };
}
