import { envVarSources, linkStates, mappingTransforms } from '@hds/db';
import { z } from 'zod';
import type {} from 'zod-openapi';
import { apiErrorCodes } from '../http/errors.js';

/**
 * The JSON bodies the admin API answers with, as zod schemas: the OpenAPI document is generated from them, the
 * compiler checks each handler's answer against them, and the route test checks real answers against the document.
 * `id` makes a shape a named component of the document.
 */

const isoTime = z.iso.datetime().meta({ description: 'RFC 3339 time, UTC', example: '2026-11-23T14:38:02.123Z' });
const id = z.uuid();

export const errorBody = z
  .object({
    error: z.object({
      code: z.enum(apiErrorCodes),
      message: z.string().meta({ description: 'For people; never holds a secret or a stack trace' }),
    }),
  })
  .meta({ id: 'Error', description: 'Every error answer of the API' });

export const accountView = z
  .object({
    id,
    email: z.string(),
    authType: z.enum(['api_key', 'oauth']),
    createdAt: isoTime,
  })
  .meta({ id: 'HerokuAccount', description: 'A Heroku account the service can act as (never its token)' });

export const mappingsView = z
  .record(
    z.string(),
    z.union([z.string(), z.object({ to: z.string(), transforms: z.array(z.enum(mappingTransforms)) })]),
  )
  .meta({
    id: 'Mappings',
    description: 'Config var → env var, e.g. {"DATABASE_URL": "HASURA_GRAPHQL_DATABASE_URL"}',
    example: { DATABASE_URL: 'HASURA_GRAPHQL_DATABASE_URL' },
  });

export const syncStatusView = z
  .object({
    enabled: z.boolean(),
    linkId: id.nullable(),
    accountId: id.nullable(),
    app: z.object({ id: z.string(), name: z.string() }).nullable(),
    mappings: mappingsView,
    state: z.enum(linkStates).meta({ description: 'What the README calls link states; `disabled` when off' }),
    lastReleaseVersion: z.int().nullable(),
    lastSyncedAt: isoTime.nullable(),
    lastReconciledAt: isoTime.nullable(),
    lastError: z.string().nullable(),
    webhookId: z.string().nullable(),
  })
  .meta({ id: 'SyncStatus', description: "A project's Heroku sync" });

export const projectView = z
  .object({ id, name: z.string(), createdAt: isoTime, sync: syncStatusView })
  .meta({ id: 'Project' });

export const envVarView = z
  .object({
    name: z.string(),
    value: z.string().meta({ description: 'Masked (`postgres://user:****@host/db`) unless `?reveal=true`' }),
    fingerprint: z
      .string()
      .nullable()
      .meta({ description: 'A keyed hash: shows a change when the masked form stays the same (a new password)' }),
    source: z.enum(envVarSources),
    updatedAt: isoTime,
  })
  .meta({ id: 'EnvVar' });

export const auditEntryView = z
  .object({
    id: z.int().meta({ description: 'Pass the last one as `?before=` for the next page' }),
    at: isoTime,
    action: z.string().meta({ example: 'env_synced' }),
    varName: z.string().nullable(),
    before: z.string().nullable().meta({ description: 'Redacted' }),
    after: z.string().nullable().meta({ description: 'Redacted' }),
    releaseVersion: z.int().nullable(),
    eventId: z.string().nullable(),
    actor: z.string().meta({ example: 'webhook' }),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditEntry', description: 'One audit row; values only ever redacted' });
