import { z } from 'zod';
import { herokuErrors } from '../support/heroku-error.js';
import { webhookLevels } from '../state/model.js';

/** The entities an app webhook can subscribe to. */
export const webhookIncludes = [
  'api:addon-attachment',
  'api:addon',
  'api:app',
  'api:build',
  'api:collaborator',
  'api:domain',
  'api:dyno',
  'api:formation',
  'api:release',
  'api:sni-endpoint',
  'dyno',
] as const;

const httpUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

const webhookFields = {
  include: z.array(z.enum(webhookIncludes)).min(1),
  level: z.enum(webhookLevels),
  url: httpUrl,
  secret: z.string().min(1).max(256).nullable().optional(),
  authorization: z.string().min(1).max(4096).nullable().optional(),
};

/** `POST /apps/{app}/webhooks`: exactly `include`, `level`, `url` and optional `secret`, `authorization`. */
export const webhookCreateBody = z.object(webhookFields).strict();
/** `PATCH /apps/{app}/webhooks/{id}`: any of the same fields. */
export const webhookUpdateBody = z.object(webhookFields).partial().strict();

/**
 * `PATCH /apps/{app}`: the sim changes `maintenance` only; the schema's other fields (`name`, `build_stack`) are
 * refused as unknown rather than ignored.
 */
export const appUpdateBody = z.object({ maintenance: z.boolean() }).strict();

/** `PATCH /apps/{app}/config-vars`: names of word characters, values strings or null (which removes). */
export const configVarsPatchBody = z.record(
  z.string().regex(/^\w+$/, 'config var names are letters, digits and underscores'),
  z.string().nullable(),
);

/** Parses a request body or throws Heroku's 422 `invalid_params`, naming the first problem. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw herokuErrors.invalidParams('Invalid request body.');
  if (issue.code === 'unrecognized_keys')
    throw herokuErrors.invalidParams(`Unknown field(s): ${issue.keys.join(', ')}.`);
  const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw herokuErrors.invalidParams(`Invalid ${where}: ${issue.message}.`);
}
