import { dataMigrationStates } from '@hds/db';
import { z } from 'zod';
import type { ApiRoutes } from './api-routes.js';
import type { ApiDeps } from './deps.js';
import { projectParams, uuid } from './schemas.js';

const migrationParams = projectParams.extend({ migrationId: uuid.meta({ description: 'The migration' }) });

const startBody = z.strictObject({
  targetUrl: z
    .string()
    .min(1, 'is required')
    .max(2048, 'must be at most 2048 characters')
    .meta({ description: 'The target Postgres (`postgres://user:password@host:5432/db`); stored encrypted' }),
  cutover: z.boolean().optional().meta({
    description:
      "After verification, point the DATABASE_URL mapping's env var at the target and stop that mapping (default false)",
  }),
  maintenance: z
    .boolean()
    .optional()
    .meta({ description: 'Put the Heroku app in maintenance mode for the copy (default false)' }),
});

interface TableView {
  name: string;
  rows: number;
  rowsCopied: number;
  partitions?: TableView[];
}
const tableView: z.ZodType<TableView> = z.lazy(() =>
  z.object({
    name: z.string().meta({ description: 'Schema-qualified, quoted as in SQL' }),
    rows: z.number(),
    rowsCopied: z.number(),
    partitions: z.array(tableView).optional(),
  }),
);

export const migrationView = z
  .object({
    id: uuid,
    state: z.enum(dataMigrationStates),
    target: z.string().meta({ description: 'The target URL, redacted' }),
    cutover: z.boolean(),
    maintenance: z.boolean(),
    tables: z.array(tableView),
    rows: z.number(),
    rowsCopied: z.number(),
    bytesCopied: z.number(),
    bytesTotal: z.number().meta({ description: "An estimate: the source tables' size on disk" }),
    error: z.string().nullable(),
    cutoverAt: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Migration' });

/** Moving off Heroku: copy a project's Heroku Postgres to a target database, verify it, cut over. */
export function registerMigrationRoutes(api: ApiRoutes, deps: ApiDeps): void {
  api.route({
    method: 'post',
    path: '/projects/:id/migrations',
    operationId: 'startMigration',
    summary: "Copy the project's Heroku database to a target database",
    description:
      "Checks first, changing nothing when a check fails (422): the app's current DATABASE_URL and the target " +
      "both answer, the local pg_dump reads the source's version, and the target has no table of the same name " +
      "as one of the source's. Then queues the copy on the `data-migrations` queue. Another migration of the " +
      'project whose job is gone from the queue for over a minute is ended first, as failed, and cleaned up.',
    tags: ['Migrations'],
    params: projectParams,
    body: startBody,
    example: { targetUrl: 'postgres://app:secret@db.example.com:5432/app', cutover: true, maintenance: true },
    responses: { 202: { description: 'Queued', schema: migrationView } },
    errors: [
      404,
      {
        status: 409,
        description:
          '`conflict`: the project already cut over to its new database (nothing is left to copy), or another ' +
          'migration of the project is running (start again once it is done, failed or cancelled)',
      },
      422,
      503,
    ],
    handler: async ({ params, body }) => ({
      status: 202,
      body: await deps.migrations.start({ projectId: params.id, ...body }),
    }),
  });

  api.route({
    method: 'get',
    path: '/projects/:id/migrations',
    operationId: 'listMigrations',
    summary: "A project's migrations, newest first",
    tags: ['Migrations'],
    params: projectParams,
    responses: { 200: { description: 'The migrations', schema: z.object({ migrations: z.array(migrationView) }) } },
    errors: [404],
    handler: async ({ params }) => {
      await deps.sync.getProject(params.id);
      return { status: 200, body: { migrations: await deps.migrations.list(params.id) } };
    },
  });

  api.route({
    method: 'get',
    path: '/projects/:id/migrations/:migrationId',
    operationId: 'getMigration',
    summary: "A migration's state and progress, table by table",
    tags: ['Migrations'],
    params: migrationParams,
    responses: { 200: { description: 'The migration', schema: migrationView } },
    errors: [404],
    handler: async ({ params }) => ({ status: 200, body: await deps.migrations.get(params.id, params.migrationId) }),
  });

  api.route({
    method: 'post',
    path: '/projects/:id/migrations/:migrationId/cancel',
    operationId: 'cancelMigration',
    summary: 'Cancel a migration',
    description:
      'The worker stops the copy and drops what the migration created on the target, leaving it as it was, and ' +
      'takes the app out of maintenance mode. A migration whose job is gone from the queue (failed for good, or ' +
      'removed) is ended at once, cleaned up the same way: the answer shows it cancelled.',
    tags: ['Migrations'],
    params: migrationParams,
    responses: { 202: { description: 'The cancel is asked for', schema: migrationView } },
    errors: [
      404,
      {
        status: 409,
        description:
          '`conflict`: the migration has finished (done, failed or cancelled) or is cutting over: it can no longer ' +
          'be cancelled',
      },
    ],
    handler: async ({ params }) => ({
      status: 202,
      body: await deps.migrations.cancel(params.id, params.migrationId),
    }),
  });
}
