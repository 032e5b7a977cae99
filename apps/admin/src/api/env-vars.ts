import type { Router } from 'express';
import { z } from 'zod';
import { parseInput } from '../http/validate.js';
import type { ApiDeps } from './deps.js';
import { envValue, uuid, varName } from './schemas.js';

const listQuery = z.object({
  reveal: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .transform((v) => v === 'true'),
});
const setParams = z.object({ id: uuid, name: varName });
const setBody = z.strictObject({ value: envValue });

/** A project's env vars: masked unless `?reveal=true`; set one by hand. */
export function registerEnvVarRoutes(router: Router, deps: ApiDeps): void {
  router.get('/projects/:id/env', async (req, res) => {
    const { id } = parseInput(z.object({ id: uuid }), req.params, 'path');
    const { reveal } = parseInput(listQuery, req.query, 'query');
    res.json({ vars: await deps.sync.listEnvVars(id, reveal) });
  });

  router.put('/projects/:id/env/:name', async (req, res) => {
    const { id, name } = parseInput(setParams, req.params, 'path');
    const { value } = parseInput(setBody, req.body, 'body');
    const { changed } = await deps.sync.setEnvVar(id, name, value);
    const vars = await deps.sync.listEnvVars(id, false);
    res.json({ changed, var: vars.find((v) => v.name === name) });
  });
}
