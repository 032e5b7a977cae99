import { z } from 'zod';
import { apiCaller } from '../auth/api-auth.js';
import type { ApiRoutes } from './api-routes.js';
import type { ApiDeps } from './deps.js';
import { envVarView } from './responses.js';
import { envValue, projectParams, uuid, varName } from './schemas.js';

const listQuery = z.object({
  reveal: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .transform((v) => v === 'true')
    .meta({ description: 'Answer the values in clear' }),
});
const setParams = z.object({ id: uuid, name: varName });
const setBody = z.strictObject({ value: envValue });

/** A project's env vars: masked unless `?reveal=true`; set one by hand. */
export function registerEnvVarRoutes(api: ApiRoutes, deps: ApiDeps): void {
  api.route({
    method: 'get',
    path: '/projects/:id/env',
    operationId: 'listEnvVars',
    summary: "A project's env vars",
    tags: ['Projects'],
    params: projectParams,
    query: listQuery,
    description:
      'Also answers a project read token (`Authorization: Bearer hds_pt_…`) for its own project. Every reveal, by ' +
      'either, leaves an `env_revealed` audit row.',
    responses: { 200: { description: 'The env vars', schema: z.object({ vars: z.array(envVarView) }) } },
    errors: [403, 404],
    handler: async ({ params, query }, { res }) => {
      const vars = await deps.sync.listEnvVars(params.id, query.reveal);
      if (query.reveal) {
        const caller = apiCaller(res);
        await deps.destinations.recordReveal(
          caller.kind === 'admin'
            ? { projectId: params.id, actor: 'admin' }
            : { projectId: params.id, actor: 'project_token', tokenId: caller.tokenId },
        );
      }
      return { status: 200, body: { vars } };
    },
  });

  api.route({
    method: 'put',
    path: '/projects/:id/env/:name',
    operationId: 'setEnvVar',
    summary: 'Set an env var by hand',
    tags: ['Projects'],
    params: setParams,
    body: setBody,
    example: { value: 'https://example.com/hook' },
    responses: {
      200: {
        description: 'Whether the value changed, and the var (masked)',
        schema: z.object({ changed: z.boolean(), var: envVarView }),
      },
    },
    errors: [404, 413],
    handler: async ({ params, body }) => {
      const { changed } = await deps.sync.setEnvVar(params.id, params.name, body.value);
      const vars = await deps.sync.listEnvVars(params.id, false);
      const saved = vars.find((v) => v.name === params.name);
      if (!saved) throw new Error('the var just set is not listed');
      return { status: 200, body: { changed, var: saved } };
    },
  });
}
