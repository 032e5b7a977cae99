import { auditLog, type AuditAction, type DbOrTx } from '@hds/db';
import { and, desc, eq, lt } from 'drizzle-orm';

/** Who made a change. */
export type AuditActor = 'webhook' | 'reconciler' | 'admin' | 'system' | 'project_token';

/** Every action an audit row can name: the list is `auditActions` in @hds/db, which the database CHECKs too. */
export type { AuditAction };

export interface AuditRow {
  projectId: string;
  linkId?: string | null;
  action: AuditAction;
  actor: AuditActor;
  varName?: string | null;
  beforeRedacted?: string | null;
  afterRedacted?: string | null;
  beforeFingerprint?: string | null;
  afterFingerprint?: string | null;
  releaseVersion?: number | null;
  eventId?: string | null;
  detail?: Record<string, unknown> | null;
}

/** Appends audit rows, inside the caller's transaction so the row and the change commit together. */
export async function appendAudit(db: DbOrTx, rows: AuditRow | AuditRow[]): Promise<void> {
  const list = Array.isArray(rows) ? rows : [rows];
  if (list.length > 0) await db.insert(auditLog).values(list);
}

export interface AuditEntry {
  id: number;
  at: string;
  action: AuditAction;
  varName: string | null;
  before: string | null;
  after: string | null;
  beforeFingerprint: string | null;
  afterFingerprint: string | null;
  releaseVersion: number | null;
  eventId: string | null;
  actor: string;
  detail: Record<string, unknown> | null;
}

/** A project's audit log, newest first; values are only ever redacted forms. */
export async function listAudit(
  db: DbOrTx,
  options: { projectId: string; limit: number; before?: number },
): Promise<AuditEntry[]> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(
      options.before === undefined
        ? eq(auditLog.projectId, options.projectId)
        : and(eq(auditLog.projectId, options.projectId), lt(auditLog.id, options.before)),
    )
    .orderBy(desc(auditLog.id))
    .limit(options.limit);
  return rows.map((row) => ({
    id: row.id,
    at: row.at.toISOString(),
    action: row.action,
    varName: row.varName,
    before: row.beforeRedacted,
    after: row.afterRedacted,
    beforeFingerprint: row.beforeFingerprint,
    afterFingerprint: row.afterFingerprint,
    releaseVersion: row.releaseVersion,
    eventId: row.eventId,
    actor: row.actor,
    detail: row.detail,
  }));
}
