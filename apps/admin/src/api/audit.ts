import { z } from 'zod';
import type { ApiRoutes } from './api-routes.js';
import type { ApiDeps } from './deps.js';
import { auditEntryView } from './responses.js';
import { projectParams } from './schemas.js';

const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** Entries older than this id (paging: pass the last id of the previous page). */
  before: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .meta({ description: 'Only entries older than this id: the last id of the previous page' }),
});

/** A project's audit log, newest first; values only in redacted form. */
export function registerAuditRoutes(api: ApiRoutes, deps: ApiDeps): void {
  api.route({
    method: 'get',
    path: '/projects/:id/audit',
    operationId: 'listAudit',
    summary: "A project's audit log, newest first",
    tags: ['Audit'],
    params: projectParams,
    query: auditQuery,
    responses: {
      200: { description: 'Entries, values redacted', schema: z.object({ entries: z.array(auditEntryView) }) },
    },
    errors: [404],
    handler: async ({ params, query }) => {
      const entries = await deps.sync.listAudit(params.id, {
        limit: query.limit,
        ...(query.before === undefined ? {} : { before: query.before }),
      });
      return {
        status: 200,
        body: {
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
        },
      };
    },
  });
}
