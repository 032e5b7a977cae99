import type { Router } from 'express';
import { z } from 'zod';
import { parseInput } from '../http/validate.js';
import type { ApiDeps } from './deps.js';
import { projectParams } from './schemas.js';

const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** Entries older than this id (paging: pass the last id of the previous page). */
  before: z.coerce.number().int().positive().optional(),
});

/** A project's audit log, newest first; values only in redacted form. */
export function registerAuditRoutes(router: Router, deps: ApiDeps): void {
  router.get('/projects/:id/audit', async (req, res) => {
    const { id } = parseInput(projectParams, req.params, 'path');
    const query = parseInput(auditQuery, req.query, 'query');
    const entries = await deps.sync.listAudit(id, {
      limit: query.limit,
      ...(query.before === undefined ? {} : { before: query.before }),
    });
    res.json({
      entries: entries.map((e) => ({
        id: e.id,
        at: e.at,
        action: e.action,
        varName: e.varName,
        before: e.before,
        after: e.after,
        releaseVersion: e.releaseVersion,
        eventId: e.eventId,
        actor: e.actor,
        detail: e.detail,
      })),
    });
  });
}
