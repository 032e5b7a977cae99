import { redactValue } from '@hds/core';
import { dataMigrations, type DataMigrationState } from '@hds/db';
import { appendAudit, databaseMapping, findLinkByProject, SyncError, type SyncService } from '@hds/sync';
import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import { connectDatabase } from './connect.js';
import { checkSources, fetchSourceUrl } from './preflight.js';
import { endOrphaned } from './end-orphaned.js';
import { defaultRunSettings, runMigration, type MigrationProgress, type RunSettings } from './run-migration.js';
import {
  isFinished,
  loadMigration,
  progressOf,
  targetUrlContext,
  updateMigration,
  type MigrationRow,
} from './store.js';

/** A migration as the API shows it (never the target's credentials). */
export interface MigrationView {
  id: string;
  state: DataMigrationState;
  target: string;
  cutover: boolean;
  maintenance: boolean;
  tables: { name: string; rows: number; rowsCopied: number; partitions?: MigrationView['tables'] }[];
  rows: number;
  rowsCopied: number;
  bytesCopied: number;
  bytesTotal: number;
  error: string | null;
  cutoverAt: string | null;
  createdAt: string;
  finishedAt: string | null;
}

function tableView(t: MigrationRow['tables'][number]): MigrationView['tables'][number] {
  return {
    name: t.name,
    rows: t.rows,
    rowsCopied: t.rowsCopied,
    ...(t.partitions ? { partitions: t.partitions.map(tableView) } : {}),
  };
}

export function toMigrationView(row: MigrationRow): MigrationView {
  return {
    id: row.id,
    state: row.state,
    target: row.targetRedacted,
    cutover: row.cutover,
    maintenance: row.maintenance,
    tables: row.tables.map(tableView),
    ...progressOf(row.tables),
    bytesCopied: row.bytesCopied,
    bytesTotal: row.bytesTotal,
    error: row.error,
    cutoverAt: row.cutoverAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

/**
 * Moving off Heroku, as the apps use it: the admin starts, shows and cancels migrations; the worker runs them.
 * `enqueue` puts a migration's job on the `migrations` queue (job data: the migration's id only).
 */
export class MigrationService {
  private readonly settings: RunSettings;

  constructor(
    private readonly options: {
      sync: SyncService;
      settings: Partial<RunSettings> & Pick<RunSettings, 'checkTarget'>;
      enqueue?(migrationId: string): Promise<void>;
      /**
       * Whether the migration's job can still run: it is waiting, delayed or active in the queue (not failed for
       * good, completed or gone). Without it, a migration whose job is gone is ended only by the worker that saw
       * its job fail (`endOrphaned`); with it, a cancel ends such a migration at once, and a start ends one that
       * has blocked the project for `orphanGraceMs`.
       */
      jobAlive?(migrationId: string): Promise<boolean>;
      /** How old an unfinished migration must be before a start may end it for want of a job (default 60 s). */
      orphanGraceMs?: number;
    },
  ) {
    this.settings = { ...defaultRunSettings, ...options.settings };
  }

  private get db() {
    return this.options.sync.ctx.db;
  }

  /**
   * Checks the project, the target and both databases (a target with tables of the source's names is refused, and
   * nothing is written), records the migration and queues it.
   */
  async start(options: {
    projectId: string;
    targetUrl: string;
    cutover?: boolean;
    maintenance?: boolean;
  }): Promise<MigrationView> {
    const { sync } = this.options;
    await sync.getProject(options.projectId);
    const link = await findLinkByProject(this.db, options.projectId);
    if (!link?.enabled)
      throw new SyncError('invalid', 'the Heroku sync is not enabled for this project: there is no database to copy');
    const [cutOver] = await this.db
      .select({ id: dataMigrations.id })
      .from(dataMigrations)
      .where(and(eq(dataMigrations.projectId, options.projectId), isNotNull(dataMigrations.cutoverAt)));
    if (cutOver) throw new SyncError('conflict', 'this project already cut over to its new database');
    if (options.cutover && !databaseMapping(link.mappings))
      throw new SyncError('invalid', 'the sync has no DATABASE_URL mapping, so there is no env var to cut over');
    let parsed: URL;
    try {
      parsed = new URL(options.targetUrl);
    } catch {
      throw new SyncError('invalid', 'targetUrl is not a URL');
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
      throw new SyncError('invalid', 'targetUrl must be a postgres:// URL');
    await this.settings.checkTarget(options.targetUrl);

    const sourceUrl = await fetchSourceUrl({ heroku: sync.credentials.client(link.accountId), appId: link.appId });
    if (sameDatabase(sourceUrl, options.targetUrl))
      throw new SyncError('invalid', 'the target is the Heroku database itself');
    const source = connectDatabase(sourceUrl, { role: 'source', max: 1 });
    const target = connectDatabase(options.targetUrl, { role: 'target', max: 1 });
    let estimate: Awaited<ReturnType<typeof checkSources>>;
    try {
      estimate = await checkSources({ source, target, settings: this.settings });
    } finally {
      await Promise.all([source.end({ timeout: 2 }), target.end({ timeout: 2 })]);
    }

    await this.endBlocking(options.projectId);
    const id = crypto.randomUUID();
    const row = await this.db.transaction(async (tx) => {
      const active = await tx
        .select({ id: dataMigrations.id })
        .from(dataMigrations)
        .where(
          and(
            eq(dataMigrations.projectId, options.projectId),
            sql`${dataMigrations.state} not in ('done', 'failed', 'cancelled')`,
          ),
        );
      if (active.length > 0) throw new SyncError('conflict', 'a migration of this project is already running');
      const [inserted] = await tx
        .insert(dataMigrations)
        .values({
          id,
          projectId: options.projectId,
          linkId: link.id,
          targetUrlEncrypted: sync.ctx.keyring.encrypt(options.targetUrl, targetUrlContext(id)),
          targetRedacted: redactValue(options.targetUrl),
          cutover: options.cutover ?? false,
          maintenance: options.maintenance ?? false,
          tables: estimate.tables,
          bytesTotal: estimate.bytesTotal,
        })
        .returning();
      await appendAudit(tx, {
        projectId: options.projectId,
        linkId: link.id,
        action: 'migration_started',
        actor: 'admin',
        afterRedacted: redactValue(options.targetUrl),
        detail: {
          migrationId: id,
          cutover: options.cutover ?? false,
          maintenance: options.maintenance ?? false,
          sourceMajor: estimate.sourceMajor,
          rows: estimate.rowsTotal,
          bytes: estimate.bytesTotal,
        },
      });
      return inserted!;
    });
    try {
      await this.options.enqueue?.(row.id);
    } catch (err) {
      // Not queued, so nothing would ever run it: it fails at once rather than block the project's next migration.
      await updateMigration(this.db, row, {
        state: 'failed',
        error: 'the migration could not be queued; start it again',
        finishedAt: new Date(),
      });
      throw err;
    }
    return toMigrationView(row);
  }

  async get(projectId: string, migrationId: string): Promise<MigrationView> {
    return toMigrationView(await this.require(projectId, migrationId));
  }

  /** The project's migrations, newest first. */
  async list(projectId: string, limit = 20): Promise<MigrationView[]> {
    const rows = await this.db
      .select()
      .from(dataMigrations)
      .where(eq(dataMigrations.projectId, projectId))
      .orderBy(desc(dataMigrations.createdAt))
      .limit(limit);
    return rows.map(toMigrationView);
  }

  /**
   * Asks a running migration to stop; the worker drops what it created. A finished one cannot be cancelled (409).
   * One whose job is gone (`jobAlive`) has nothing to stop it: it is ended here, cleaned up as the worker would.
   */
  async cancel(projectId: string, migrationId: string): Promise<MigrationView> {
    const asked = await this.askToCancel(projectId, migrationId);
    if (!(await this.jobGone(migrationId))) return asked;
    await this.endOrphaned(migrationId, 'its job is gone from the queue');
    return this.get(projectId, migrationId);
  }

  private async askToCancel(projectId: string, migrationId: string): Promise<MigrationView> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(dataMigrations)
        .where(and(eq(dataMigrations.id, migrationId), eq(dataMigrations.projectId, projectId)))
        .for('update');
      if (!row) throw new SyncError('not_found', 'no such migration');
      if (isFinished(row.state)) throw new SyncError('conflict', `the migration is already ${row.state}`);
      if (row.state === 'cutover')
        throw new SyncError('conflict', 'the migration is cutting over; it can no longer be cancelled');
      if (row.cancelRequested) return toMigrationView(row);
      await tx
        .update(dataMigrations)
        .set({ cancelRequested: true, updatedAt: sql`now()` })
        .where(eq(dataMigrations.id, row.id));
      await appendAudit(tx, {
        projectId,
        linkId: row.linkId,
        action: 'migration_cancelled',
        actor: 'admin',
        detail: { migrationId },
      });
      return toMigrationView({ ...row, cancelRequested: true });
    });
  }

  /** The worker's side: runs or resumes a migration (see `runMigration`). */
  run(options: {
    migrationId: string;
    lastAttempt: boolean;
    report?(progress: MigrationProgress): Promise<void>;
  }): ReturnType<typeof runMigration> {
    return runMigration({ sync: this.options.sync, settings: this.settings, ...options });
  }

  /**
   * The worker's side, when a migration's job failed for good, and the admin's when its job is gone: ends the
   * migration and cleans up (see `endOrphaned`). Returns its state after (undefined: no such migration).
   */
  endOrphaned(migrationId: string, reason: string): ReturnType<typeof endOrphaned> {
    return endOrphaned({ sync: this.options.sync, settings: this.settings, migrationId, reason });
  }

  /** Whether the queue no longer holds a job that could run the migration (false when that cannot be told). */
  private async jobGone(migrationId: string): Promise<boolean> {
    if (!this.options.jobAlive) return false;
    try {
      return !(await this.options.jobAlive(migrationId));
    } catch (err) {
      this.options.sync.ctx.logger.warn({ err, migrationId }, "could not look up the migration's job");
      return false;
    }
  }

  /**
   * Ends the project's unfinished migrations whose jobs are gone (and that are older than the grace period, so
   * that one whose job is being queued right now is never taken for one): they would block the start for good.
   */
  private async endBlocking(projectId: string): Promise<void> {
    if (!this.options.jobAlive) return;
    const graceMs = this.options.orphanGraceMs ?? 60_000;
    const stale = await this.db
      .select({ id: dataMigrations.id })
      .from(dataMigrations)
      .where(
        and(
          eq(dataMigrations.projectId, projectId),
          sql`${dataMigrations.state} not in ('done', 'failed', 'cancelled')`,
          sql`${dataMigrations.createdAt} < now() - make_interval(secs => ${graceMs / 1000})`,
        ),
      );
    for (const { id } of stale) {
      if (await this.jobGone(id))
        await this.endOrphaned(
          id,
          'its job is gone from the queue (failed for good or removed): nothing ran it any more',
        );
    }
  }

  private async require(projectId: string, migrationId: string): Promise<MigrationRow> {
    const row = await loadMigration(this.db, migrationId);
    if (!row || row.projectId !== projectId) throw new SyncError('not_found', 'no such migration');
    return row;
  }
}

/** Whether two URLs name the same database on the same server. */
function sameDatabase(a: string, b: string): boolean {
  const x = new URL(a);
  const y = new URL(b);
  return x.hostname === y.hostname && (x.port || '5432') === (y.port || '5432') && x.pathname === y.pathname;
}
