import { mappingsInputSchema, parseMappings, SyncError } from '@hds/sync';
import { z } from 'zod';
import type {} from 'zod-openapi';

export const uuid = z.uuid({ error: 'must be a UUID' });
const mappingsDocument = z.toJSONSchema(mappingsInputSchema, { io: 'input', target: 'draft-2020-12' });
delete mappingsDocument.$schema;

/** An env var or config var name. */
export const varName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be letters, digits and _ (not starting with a digit), at most 128');

export const envValue = z.string().max(32_768, 'must be at most 32768 characters');

/** A Heroku app, by name or id. */
export const appRef = z
  .string()
  .min(1, 'is required')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a Heroku app name or id');

/** `{"DATABASE_URL": "HASURA_GRAPHQL_DATABASE_URL"}`: checked by the domain's own rules, at the boundary. */
export const mappings = z
  .unknown()
  .superRefine((value, ctx) => {
    try {
      parseMappings(value);
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message.replace(/^mappings: ?/, '') });
    }
  })
  // Checked by the domain's rules; described by the domain's own schema of them.
  .meta({
    description:
      'Config var → env var; default {"DATABASE_URL": "HASURA_GRAPHQL_DATABASE_URL"}. Two config vars may not ' +
      'write the same env var.',
    override: mappingsDocument,
  })
  .optional();

export const projectParams = z.object({ id: uuid.meta({ description: 'The project' }) });
export const accountParams = z.object({
  accountId: uuid.meta({ description: 'The Heroku account (ours, not Heroku’s)' }),
});
