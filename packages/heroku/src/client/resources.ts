import type * as Heroku from '@heroku-cli/schema';
import { z } from 'zod';

/*
 * Heroku's resources as the service reads them. `@heroku-cli/schema` types every field as optional; these zod
 * schemas check the fields the service relies on (loosely: Heroku adds fields without notice) and the
 * resulting types are the schema types with those fields made definite.
 */

const idName = z.looseObject({ id: z.string(), name: z.string() });

export const accountSchema = z.looseObject({ id: z.string(), email: z.string() });
export type Account = Heroku.Account & z.infer<typeof accountSchema>;

export const appSchema = z.looseObject({ id: z.string(), name: z.string() });
export type App = Heroku.App & z.infer<typeof appSchema>;

export const releaseSchema = z.looseObject({
  id: z.string(),
  version: z.number().int(),
  status: z.string().optional(),
  current: z.boolean().optional(),
  description: z.string().optional(),
  created_at: z.string().optional(),
});
/** `status` stays a string: Heroku documents `expired` too, which the published types lack. */
export type Release = Omit<Heroku.Release, 'status'> & z.infer<typeof releaseSchema>;

/** Config var values are strings; Heroku returns an object of name → value. */
export const configVarsSchema = z.record(z.string(), z.string());
export type ConfigVars = z.infer<typeof configVarsSchema>;

export const webhookLevels = ['notify', 'sync'] as const;
export type WebhookLevel = (typeof webhookLevels)[number];

export const appWebhookSchema = z.looseObject({
  id: z.string(),
  url: z.string(),
  include: z.array(z.string()),
  level: z.string(),
  app: idName.partial().optional(),
});
export type AppWebhook = z.infer<typeof appWebhookSchema>;

export interface WebhookCreate {
  include: string[];
  level: WebhookLevel;
  url: string;
  secret?: string;
  authorization?: string;
}
export type WebhookUpdate = Partial<WebhookCreate>;
