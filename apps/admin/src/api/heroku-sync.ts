import { z } from 'zod';
import { enqueueReconcile } from '../jobs.js';
import type { ApiRoutes } from './api-routes.js';
import type { ApiDeps } from './deps.js';
import { syncStatusView } from './responses.js';
import { appRef, mappings, projectParams, uuid } from './schemas.js';

const enableBody = z.strictObject({ accountId: uuid, app: appRef, mappings });

/** A project's Heroku sync: enable (idempotent), read, opt out, check now. */
export function registerHerokuSyncRoutes(api: ApiRoutes, deps: ApiDeps): void {
  api.route({
    method: 'put',
    path: '/projects/:id/heroku-sync',
    operationId: 'enableHerokuSync',
    summary: 'Enable the sync with a Heroku app (or pick another app)',
    description:
      'Creates the Heroku webhook (`api:release`, `sync`) and applies the current config before answering. ' +
      'Idempotent; with another app, or the same app under a new id, the link moves to it. Works in any state.',
    tags: ['Heroku sync'],
    params: projectParams,
    body: enableBody,
    example: { accountId: '7d3f0e3c-7d67-4c1d-9d6e-1f2a3b4c5d6e', app: 'sushi-prod' },
    responses: { 200: { description: 'The sync status after the first sync', schema: syncStatusView } },
    errors: [404, 409, 422, 503],
    handler: async ({ params, body }) => ({
      status: 200,
      body: await deps.sync.enableSync({ projectId: params.id, ...body }),
    }),
  });

  api.route({
    method: 'get',
    path: '/projects/:id/heroku-sync',
    operationId: 'getHerokuSync',
    summary: "A project's sync status",
    tags: ['Heroku sync'],
    params: projectParams,
    responses: { 200: { description: 'The sync status', schema: syncStatusView } },
    errors: [404],
    handler: async ({ params }) => ({ status: 200, body: await deps.sync.getSyncStatus(params.id) }),
  });

  api.route({
    method: 'delete',
    path: '/projects/:id/heroku-sync',
    operationId: 'disableHerokuSync',
    summary: 'Opt out of the sync',
    description:
      'Deletes the Heroku webhook and turns the sync off; the env vars keep their values. When Heroku does not ' +
      'answer the sync still turns off, and the audit log says the webhook is left for the reconciler to delete.',
    tags: ['Heroku sync'],
    params: projectParams,
    responses: { 204: { description: 'The sync is off' } },
    errors: [404],
    handler: async ({ params }) => {
      await deps.sync.disableSync(params.id);
      return { status: 204 };
    },
  });

  api.route({
    method: 'post',
    path: '/projects/:id/heroku-sync/reconcile',
    operationId: 'reconcileHerokuSync',
    summary: 'Check the sync now',
    description: 'Queues a reconcile of the link: the worker compares it with Heroku and applies what was missed.',
    tags: ['Heroku sync'],
    params: projectParams,
    responses: {
      202: {
        description: 'Queued',
        schema: z.object({ queued: z.boolean(), jobId: z.string().nullable(), linkId: uuid }),
      },
    },
    errors: [404, 503],
    handler: async ({ params }) => {
      const linkId = await deps.sync.linkIdForReconcile(params.id);
      const jobId = await enqueueReconcile(deps.producer, { linkId, reason: 'manual' });
      return { status: 202, body: { queued: true, jobId: jobId ?? null, linkId } };
    },
  });
}
