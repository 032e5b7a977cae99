import type { Router } from 'express';
import { z } from 'zod';
import { parseInput } from '../http/validate.js';
import type { ApiDeps } from './deps.js';
import { appRef, envValue, mappings, projectParams, uuid, varName } from './schemas.js';

const createProjectBody = z.strictObject({
  name: z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters'),
  env: z
    .record(varName, envValue)
    .refine((env) => Object.keys(env).length <= 200, 'at most 200 variables')
    .optional(),
  heroku: z.strictObject({ accountId: uuid, app: appRef, mappings }).optional(),
});

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) });

/** Projects: create (with the sync on at once when a Heroku app is given), list, read. */
export function registerProjectRoutes(router: Router, deps: ApiDeps): void {
  router.post('/projects', async (req, res) => {
    const body = parseInput(createProjectBody, req.body, 'body');
    const project = await deps.sync.createProject({
      name: body.name,
      ...(body.env ? { env: body.env } : {}),
      ...(body.heroku ? { heroku: body.heroku } : {}),
    });
    res.status(201).location(`/api/projects/${project.id}`).json(project);
  });

  router.get('/projects', async (req, res) => {
    const { limit } = parseInput(listQuery, req.query, 'query');
    res.json({ projects: await deps.sync.listProjects(limit) });
  });

  router.get('/projects/:id', async (req, res) => {
    const { id } = parseInput(projectParams, req.params, 'path');
    res.json(await deps.sync.getProject(id));
  });
}
