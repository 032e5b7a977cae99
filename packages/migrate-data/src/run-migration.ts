import { scrubSecrets, type Logger } from '@hds/core';
import { dataMigrations, type DataMigrationState, type DataMigrationTable } from '@hds/db';
import { cutOverDatabase, findLinkByProject, SyncError, type SyncService } from '@hds/sync';
import { eq } from 'drizzle-orm';
import type { Sql } from 'postgres';
import {
  dropCreated,
  flatten,
  populatedMatviews,
  readSequences,
  refreshMatviews,
  sumPartitions,
  takeBaseline,
  writeSequences,
  type Baseline,
} from './catalog.js';
import { connectDatabase } from './connect.js';
import { copyTable } from './copy-table.js';
import { dumpSchema, withoutMetaCommands } from './pg-dump.js';
import { checkSources, fetchSourceUrl, type PreflightSettings } from './preflight.js';
import {
  isFinished,
  loadMigration,
  progressOf,
  setAppMaintenance,
  targetUrlContext,
  updateMigration,
  type MigrationRow,
} from './store.js';
import { verifyTables } from './verify.js';

/** What a running migration reports to its job (`job.updateProgress`). */
export interface MigrationProgress {
  state: DataMigrationState;
  percent: number;
  rows: number;
  rowsCopied: number;
  bytesCopied: number;
}

export interface RunSettings extends PreflightSettings {
  /** Tables copied at once. */
  copyConcurrency: number;
  /** How often progress is written to the migration's row (and the job). */
  progressIntervalMs: number;
  /** How often a running migration looks for a cancel. */
  cancelPollMs: number;
  /** Awaited before a table's copy begins (tests use it to hold a table at a known point). */
  beforeTable?(table: string): Promise<void>;
}

export const defaultRunSettings: Omit<RunSettings, 'checkTarget'> = {
  copyConcurrency: 2,
  progressIntervalMs: 500,
  cancelPollMs: 500,
};

class Cancelled extends Error {
  override name = 'Cancelled';
}

/** A failure retrying cannot fix: the migration fails at once. */
export class MigrationFailure extends Error {
  override name = 'MigrationFailure';
}

/** Postgres's "already exists" errors: a post-data section that an interrupted attempt already committed. */
const ALREADY_EXISTS = new Set(['42P07', '42710', '42P16']);

/** Runs a schema section in one transaction; psql's meta-commands are dropped, the session is reset after. */
async function applySection(target: Sql, script: string): Promise<void> {
  await target.begin(async (tx) => {
    await tx.unsafe(withoutMetaCommands(script)).simple();
    await tx.unsafe('reset all');
  });
}

/**
 * Runs (or resumes) one migration, from the state its row is in: preflight, schema (pre-data), rows table by
 * table, constraints (post-data, materialized views, sequences), verification, cut-over. Every step either
 * commits as a whole on the target or is redone as a whole, so a job taken over after a worker died resumes with
 * the table it was on. A cancel, a failure retrying cannot fix, or the last attempt's failure drops what the
 * migration created on the target and takes the app out of maintenance mode. So does a migration ended elsewhere
 * while this attempt still runs (`endOrphaned`, after its job was given up): the attempt stops and never cuts over.
 */
export async function runMigration(options: {
  sync: SyncService;
  settings: RunSettings;
  migrationId: string;
  /** This is the job's last attempt: a failure ends the migration. */
  lastAttempt: boolean;
  report?(progress: MigrationProgress): Promise<void>;
}): Promise<{ state: DataMigrationState; error?: string | null }> {
  const { sync, settings } = options;
  const { db, keyring } = sync.ctx;
  const loaded = await loadMigration(db, options.migrationId);
  if (!loaded) throw new MigrationFailure('no such migration');
  let row: MigrationRow = loaded;
  const logger = sync.ctx.logger.child({ migrationId: row.id, projectId: row.projectId });
  const link = await findLinkByProject(db, row.projectId);
  if (isFinished(loaded.state)) {
    // A retry after taking the app out of maintenance failed (Heroku not answering): that is all that is left.
    if (loaded.maintenanceOn && link?.id === loaded.linkId) {
      await setAppMaintenance(sync, { link, migrationId: loaded.id, on: false });
    }
    return { state: loaded.state, error: loaded.error };
  }
  if (!link || link.id !== row.linkId) throw new MigrationFailure("the project's sync is gone");
  const heroku = sync.credentials.client(link.accountId);
  const targetUrl = keyring.decrypt(row.targetUrlEncrypted, targetUrlContext(row.id));

  const abort = new AbortController();
  const cancelPoll = setInterval(() => {
    loadMigration(db, row.id).then(
      (current) => {
        // A cancel, or the migration ended elsewhere (`endOrphaned`: its job was given up on while this attempt
        // still ran, say after it lost its lock): either way this attempt stops and drops what it created.
        if (current && (current.cancelRequested || isFinished(current.state))) abort.abort(new Cancelled('cancelled'));
      },
      (err: unknown) => logger.warn({ err }, 'could not check for a cancel'),
    );
  }, settings.cancelPollMs);
  const checkCancel = () => {
    if (abort.signal.aborted) throw new Cancelled('cancelled');
  };

  let source: Sql | undefined;
  const target = connectDatabase(targetUrl, { role: 'target', max: settings.copyConcurrency + 1 });
  const move = async (changes: Parameters<typeof updateMigration>[2]) => {
    if (changes.state && changes.state !== row.state) logger.debug({ state: changes.state }, 'data migration moves on');
    await updateMigration(db, row, changes);
    row = { ...row, ...changes };
  };

  try {
    if (row.cancelRequested) throw new Cancelled('cancelled');
    // Checked again at every attempt: a name may resolve elsewhere now.
    await settings.checkTarget(targetUrl);
    // The source URL is fetched at every attempt: Heroku may have rotated the credentials since.
    const sourceUrl = await fetchSourceUrl({ heroku, appId: link.appId });
    source = connectDatabase(sourceUrl, { role: 'source', max: settings.copyConcurrency + 1 });

    if (row.state === 'queued' || row.state === 'preflight') {
      await move({ state: 'preflight' });
      const checked = await checkSources({ source, target, settings });
      const baseline = await takeBaseline(target);
      await move({
        state: 'schema',
        tables: checked.tables,
        bytesTotal: checked.bytesTotal,
        targetBaseline: baseline,
      });
    }
    checkCancel();
    if (row.maintenance && !row.maintenanceOn) {
      await setAppMaintenance(sync, { link, migrationId: row.id, on: true });
      row = { ...row, maintenanceOn: true };
    }

    if (row.state === 'schema') {
      // What an interrupted attempt left goes first (the section is one transaction, so normally nothing).
      await dropCreated(target, baselineOf(row));
      await applySection(target, await dumpSchema({ url: sourceUrl, section: 'pre-data', bin: settings.pgDumpBin }));
      await move({ state: 'copying' });
    }

    if (row.state === 'copying') {
      await copyRows({
        sourceUrl,
        target,
        row,
        settings,
        signal: abort.signal,
        move,
        report: (progress) => options.report?.(progress) ?? Promise.resolve(),
        logger,
      });
      checkCancel();
      await move({ state: 'constraints' });
    }

    if (row.state === 'constraints') {
      const postData = await dumpSchema({ url: sourceUrl, section: 'post-data', bin: settings.pgDumpBin });
      try {
        await applySection(target, postData);
      } catch (err) {
        // Committed by an attempt that died before it could say so: the section is all or nothing.
        if (!ALREADY_EXISTS.has((err as { code?: string }).code ?? '')) throw err;
        logger.info('post-data already applied by an earlier attempt');
      }
      await refreshMatviews(target, await populatedMatviews(source));
      await writeSequences(target, await readSequences(source));
      await move({ state: 'verifying' });
    }
    checkCancel();

    if (row.state === 'verifying') {
      const leaves = flatten(row.tables).filter((t) => !t.partitions);
      const verdict = await verifyTables({
        source,
        target,
        tables: leaves.map((t) => t.name),
        concurrency: settings.copyConcurrency,
      });
      if (!verdict.ok) throw new MigrationFailure(verdict.reason);
      await move({ state: row.cutover ? 'cutover' : 'done', ...(row.cutover ? {} : { finishedAt: new Date() }) });
    }
    checkCancel();

    if (row.state === 'cutover') {
      await db.transaction(async (tx) => {
        // The row is locked first: a migration ended elsewhere meanwhile (`endOrphaned`) never cuts over, and one
        // that cuts over is done before anything else may end it.
        const [current] = await tx
          .select({ state: dataMigrations.state })
          .from(dataMigrations)
          .where(eq(dataMigrations.id, row.id))
          .for('update');
        if (current?.state !== 'cutover') throw new Cancelled('the migration was ended elsewhere');
        await cutOverDatabase(tx, keyring, { linkId: link.id, targetUrl, migrationId: row.id });
        const now = new Date();
        await updateMigration(tx, row, { state: 'done', cutoverAt: now, finishedAt: now });
      });
      row = { ...row, state: 'done' };
    }
    await maintenanceOff();
    logger.info('data migration done');
    return { state: 'done' };
  } catch (err) {
    if ((await loadMigration(db, row.id).catch(() => undefined))?.state === 'done') {
      // Done is done (a cancel that came too late, say): the target is never dropped after that.
      await maintenanceOff();
      return { state: 'done' };
    }
    const cancelled = err instanceof Cancelled || abort.signal.aborted;
    const permanent = err instanceof MigrationFailure || err instanceof SyncError;
    if (!cancelled && !permanent && !options.lastAttempt) {
      logger.warn({ err }, 'data migration attempt failed; the job retries and resumes');
      throw err;
    }
    const message = cancelled ? null : scrubSecrets(err instanceof Error ? err.message : String(err)).slice(0, 2000);
    if (row.targetBaseline) await dropCreated(target, baselineOf(row));
    await maintenanceOff();
    await move({ state: cancelled ? 'cancelled' : 'failed', error: message, finishedAt: new Date() });
    if (cancelled) logger.info('data migration cancelled; the target is as it was');
    else logger.warn({ err }, 'data migration failed; the target is as it was');
    // As stored: a migration ended elsewhere keeps the state and error it was given there.
    const stored = await loadMigration(db, row.id).catch(() => undefined);
    return { state: stored?.state ?? row.state, error: stored ? stored.error : message };
  } finally {
    clearInterval(cancelPoll);
    await Promise.all([source?.end({ timeout: 2 }), target.end({ timeout: 2 })]);
  }

  async function maintenanceOff(): Promise<void> {
    if (!row.maintenanceOn) return;
    await setAppMaintenance(sync, { link: link!, migrationId: row.id, on: false });
    row = { ...row, maintenanceOn: false };
  }
}

function baselineOf(row: MigrationRow): Baseline {
  if (!row.targetBaseline) throw new Error('the migration has no baseline of the target');
  return row.targetBaseline as Baseline;
}

/** Copies every table not copied yet, `copyConcurrency` at a time, writing progress as it goes. */
async function copyRows(options: {
  sourceUrl: string;
  target: Sql;
  row: MigrationRow;
  settings: RunSettings;
  signal: AbortSignal;
  move(changes: { tables: DataMigrationTable[]; bytesCopied: number }): Promise<void>;
  report(progress: MigrationProgress): Promise<void>;
  logger: Logger;
}): Promise<void> {
  const { logger } = options;
  const tables = structuredClone(options.row.tables);
  const leaves = flatten(tables).filter((t) => !t.partitions);
  const pending = leaves.filter((t) => !t.done);
  // A table an interrupted attempt was on starts over (its rows were rolled back with its transaction).
  for (const t of pending) Object.assign(t, { rowsCopied: 0, bytesCopied: 0 });

  let dirty = true;
  // One write at a time, in order: a slow write of older progress never lands after a newer one.
  let writing: Promise<void> = Promise.resolve();
  const flush = () => (writing = writing.then(write, write));
  const write = async () => {
    if (!dirty) return;
    dirty = false;
    for (const t of tables) sumPartitions(t);
    const bytesCopied = leaves.reduce((n, t) => n + t.bytesCopied, 0);
    await options.move({ tables: structuredClone(tables), bytesCopied });
    const { rows, rowsCopied } = progressOf(tables);
    await options.report({
      state: 'copying',
      percent: rows === 0 ? 100 : Math.min(100, Math.floor((rowsCopied / rows) * 100)),
      rows,
      rowsCopied,
      bytesCopied,
    });
  };
  const timer = setInterval(() => void flush().catch(() => {}), options.settings.progressIntervalMs);
  try {
    const queue = [...pending];
    // One copy failing stops the others, and every copy has ended (its transaction too) before this returns.
    const stop = new AbortController();
    const signal = AbortSignal.any([options.signal, stop.signal]);
    const copyNext = async (): Promise<void> => {
      for (let table = queue.shift(); table; table = queue.shift()) {
        if (signal.aborted) throw new Cancelled('cancelled');
        logger.debug({ table: table.name }, 'copying table');
        await options.settings.beforeTable?.(table.name);
        const copied = await copyTable({
          sourceUrl: options.sourceUrl,
          target: options.target,
          table: table.name,
          signal,
          onProgress: ({ rows, bytes }) => {
            table.rowsCopied = rows;
            table.bytesCopied = bytes;
            dirty = true;
          },
        });
        Object.assign(table, { rows: copied.rows, rowsCopied: copied.rows, bytesCopied: copied.bytes, done: true });
        dirty = true;
        await flush();
      }
    };
    const results = await Promise.allSettled(
      Array.from({ length: Math.max(1, options.settings.copyConcurrency) }, () =>
        copyNext().catch((err: unknown) => {
          stop.abort();
          throw err;
        }),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw options.signal.aborted ? new Cancelled('cancelled') : failed.reason;
  } finally {
    clearInterval(timer);
  }
  dirty = true;
  await flush();
}
