import { z } from 'zod';
import type { ApiRoutes } from './api-routes.js';
import type { ApiDeps } from './deps.js';
import { projectView } from './responses.js';
import { appRef, envValue, mappings, projectParams, uuid, varName } from './schemas.js';

const createProjectBody = z.strictObject({
  name: z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters'),
  env: z
    .record(varName, envValue)
    .refine((env) => Object.keys(env).length <= 200, 'at most 200 variables')
    .optional()
    .meta({ description: 'Env vars to start with (at most 200)' }),
  heroku: z
    .strictObject({ accountId: uuid, app: appRef, mappings })
    .optional()
    .meta({ description: 'Enable the sync with this app at once' }),
});
const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) });

/** Projects: create (with the sync on at once when a Heroku app is given), list, read. */
export function registerProjectRoutes(api: ApiRoutes, deps: ApiDeps): void {
  api.route({
    method: 'post',
    path: '/projects',
    operationId: 'createProject',
    summary: 'Create a project',
    description: 'With `heroku`, the app is checked before anything is written and the sync is enabled at once.',
    tags: ['Projects'],
    body: createProjectBody,
    example: { name: 'sushi-shop', env: { LOG_LEVEL: 'info' } },
    responses: {
      201: {
        description: 'The project',
        schema: projectView,
        headers: z.object({ location: z.string().meta({ header: { description: 'The project in the API' } }) }),
      },
    },
    errors: [404, 413, 422, 503],
    handler: async ({ body }) => {
      const project = await deps.sync.createProject({
        name: body.name,
        ...(body.env ? { env: body.env } : {}),
        ...(body.heroku ? { heroku: body.heroku } : {}),
      });
      return { status: 201, body: project, headers: { location: `/api/projects/${project.id}` } };
    },
  });

  api.route({
    method: 'get',
    path: '/projects',
    operationId: 'listProjects',
    summary: 'List projects, newest first',
    tags: ['Projects'],
    query: listQuery,
    responses: { 200: { description: 'The projects', schema: z.object({ projects: z.array(projectView) }) } },
    handler: async ({ query }) => ({ status: 200, body: { projects: await deps.sync.listProjects(query.limit) } }),
  });

  api.route({
    method: 'get',
    path: '/projects/:id',
    operationId: 'getProject',
    summary: 'A project, with its sync status',
    tags: ['Projects'],
    params: projectParams,
    responses: { 200: { description: 'The project', schema: projectView } },
    errors: [404],
    handler: async ({ params }) => ({ status: 200, body: await deps.sync.getProject(params.id) }),
  });
}
