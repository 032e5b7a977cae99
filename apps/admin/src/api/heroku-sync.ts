import type { Router } from 'express';
import { z } from 'zod';
import { parseInput } from '../http/validate.js';
import { enqueueReconcile } from '../jobs.js';
import type { ApiDeps } from './deps.js';
import { appRef, mappings, projectParams, uuid } from './schemas.js';

const enableBody = z.strictObject({ accountId: uuid, app: appRef, mappings });

/** A project's Heroku sync: enable (idempotent), read, opt out, check now. */
export function registerHerokuSyncRoutes(router: Router, deps: ApiDeps): void {
  router.put('/projects/:id/heroku-sync', async (req, res) => {
    const { id } = parseInput(projectParams, req.params, 'path');
    const body = parseInput(enableBody, req.body, 'body');
    res.json(await deps.sync.enableSync({ projectId: id, ...body }));
  });

  router.get('/projects/:id/heroku-sync', async (req, res) => {
    const { id } = parseInput(projectParams, req.params, 'path');
    res.json(await deps.sync.getSyncStatus(id));
  });

  router.delete('/projects/:id/heroku-sync', async (req, res) => {
    const { id } = parseInput(projectParams, req.params, 'path');
    // Heroku not answering still turns the sync off; the audit log says the webhook is left to delete.
    await deps.sync.disableSync(id);
    res.status(204).end();
  });

  router.post('/projects/:id/heroku-sync/reconcile', async (req, res) => {
    const { id } = parseInput(projectParams, req.params, 'path');
    const linkId = await deps.sync.linkIdForReconcile(id);
    const jobId = await enqueueReconcile(deps.producer, { linkId, reason: 'manual' });
    res.status(202).json({ queued: true, jobId: jobId ?? null, linkId });
  });
}
