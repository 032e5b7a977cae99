import { scrubSecrets } from '@hds/core';
import type { DeliveryResult } from '../kind.js';
import { databaseUrlForm, rewrittenDatabaseUrl, sameDatabaseUrl, type DatabaseUrlForm } from './database-url.js';
import { HasuraUnreachable, type HasuraMetadataApi, type MetadataAnswer } from './metadata-api.js';

export type RotationResult = Omit<DeliveryResult, 'latencyMs'>;

export interface RotationLimits {
  /** How many `409 conflict`s one attempt re-reads and retries before it ends as `retry` (default 5). */
  conflicts: number;
  /**
   * The waits before each retry after `400 invalid-configuration` (Hasura could not connect with the new URL and
   * kept the old one: the new password may not have reached the server yet). Default 1 s, 3 s; then `retry`.
   */
  invalidConfigurationDelaysMs: readonly number[];
}

export const DEFAULT_ROTATION_LIMITS: RotationLimits = { conflicts: 5, invalidConfigurationDelaysMs: [1000, 3000] };

export const ADMIN_SECRET_REFUSED = 'Hasura refused the admin secret';

interface ExportedSource {
  name: string;
  configuration: { connection_info: Record<string, unknown> } & Record<string, unknown>;
}

interface Exported {
  resourceVersion: number;
  metadata: { sources: ExportedSource[] } & Record<string, unknown>;
  source: ExportedSource | undefined;
}

const done = (outcome: RotationResult['outcome'], error?: string, statusCode?: number): RotationResult => ({
  outcome,
  ...(error !== undefined && { error }),
  ...(statusCode !== undefined && { statusCode }),
});

/**
 * Points a Hasura source at `url` through the metadata API, as `../shared/hasura/README.md` §7 says: export
 * (version 2), change only `connection_info.database_url` in a deep copy of the source's configuration (every other
 * field kept: `pg_update_source` does not merge), `pg_update_source` with `resource_version`; on 409 read again and
 * retry (bounded); on `invalid-configuration` wait and retry; on `not-exists` for an exported source, `replace_metadata`
 * version 2 with the edited export; then verify with `get_inconsistent_metadata` and a fresh export. A `from_env`
 * source is left alone (`needs_restart`). Nothing read from Hasura is logged: an export holds passwords.
 */
export async function rotateSource(input: {
  api: HasuraMetadataApi;
  source: string;
  url: string;
  limits?: RotationLimits;
  sleep?: (ms: number) => Promise<void>;
}): Promise<RotationResult> {
  const limits = input.limits ?? DEFAULT_ROTATION_LIMITS;
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { api, source } = input;
  let conflicts = 0;
  let invalidRetries = 0;
  try {
    for (;;) {
      const exported = await exportMetadata(api, source);
      if ('result' in exported) return exported.result;
      const current = exported.source;
      if (!current) return done('gave_up', `Hasura has no source named "${source}"`);
      const form = databaseUrlForm(current.configuration.connection_info.database_url);
      if (!writable(form)) return formRefusal(source, form);
      const next = rewrittenDatabaseUrl(form, input.url);
      if (sameDatabaseUrl(current.configuration.connection_info.database_url, next)) {
        return await verify(api, source, next);
      }
      const configuration = structuredClone(current.configuration);
      configuration.connection_info.database_url = next;
      let answer = await api.call({
        type: 'pg_update_source',
        resource_version: exported.resourceVersion,
        // `customization` left out: pg_update_source keeps the stored one (README §3).
        args: { name: source, configuration },
      });
      if (!answer.ok && answer.error.code === 'not-exists') {
        // The export lists it but the schema cache does not (it failed to resolve): replace the whole metadata.
        const metadata = structuredClone(exported.metadata);
        const edited = metadata.sources.find((s) => s.name === source);
        if (edited) edited.configuration = configuration;
        answer = await api.call({
          type: 'replace_metadata',
          version: 2,
          resource_version: exported.resourceVersion,
          args: { metadata },
        });
      }
      if (answer.ok) return await verify(api, source, next);
      if (answer.status === 409 || answer.error.code === 'conflict') {
        conflicts += 1;
        if (conflicts > limits.conflicts) {
          return done('retry', `Hasura's metadata changed under each of ${conflicts} attempts (409 conflict)`, 409);
        }
        continue;
      }
      if (answer.error.code === 'invalid-configuration' || answer.error.code === 'unexpected') {
        const wait = limits.invalidConfigurationDelaysMs[invalidRetries];
        if (wait !== undefined) {
          invalidRetries += 1;
          await sleep(wait);
          continue;
        }
        return done(
          'retry',
          `Hasura could not connect with the new URL and kept the old one: ${sourceProblem(answer.error.internal, source) ?? answer.error.error}`,
          answer.status,
        );
      }
      return failure(answer);
    }
  } catch (err) {
    if (err instanceof HasuraUnreachable) return done('retry', err.message);
    throw err;
  }
}

/** A test delivery: reaches Hasura with the admin secret and looks at the source, changing nothing. */
export async function checkSource(input: { api: HasuraMetadataApi; source: string }): Promise<RotationResult> {
  try {
    const exported = await exportMetadata(input.api, input.source);
    if ('result' in exported) return exported.result;
    if (!exported.source) return done('gave_up', `Hasura has no source named "${input.source}"`);
    const form = databaseUrlForm(exported.source.configuration.connection_info.database_url);
    return writable(form) ? done('delivered', undefined, 200) : formRefusal(input.source, form);
  } catch (err) {
    if (err instanceof HasuraUnreachable) return done('retry', err.message);
    throw err;
  }
}

type WritableForm = Extract<DatabaseUrlForm, { kind: 'string' | 'connection_parameters' }>;
const writable = (form: DatabaseUrlForm): form is WritableForm =>
  form.kind === 'string' || form.kind === 'connection_parameters';

/** What a source whose URL does not come from its metadata gets (README §7 step 2). */
function formRefusal(source: string, form: Exclude<DatabaseUrlForm, WritableForm>): RotationResult {
  switch (form.kind) {
    case 'from_env':
      return done(
        'needs_restart',
        `Hasura source "${source}" reads its URL from the environment variable ${form.variable}, which Hasura reads ` +
          `only at start: nothing was written. Set ${form.variable} and restart Hasura, or switch the source to ` +
          `dynamic_from_file and keep that file with a file destination.`,
      );
    case 'dynamic_from_file':
      return done(
        'gave_up',
        `Hasura source "${source}" reads its URL from the file ${form.path} (dynamic_from_file): keep that file with ` +
          `a file destination; the metadata API has nothing to change.`,
      );
    case 'unknown':
      return done('gave_up', `Hasura source "${source}" has a database_url of a form this service does not know`);
    default:
      return form satisfies never;
  }
}

async function exportMetadata(api: HasuraMetadataApi, source: string): Promise<Exported | { result: RotationResult }> {
  const answer = await api.call({ type: 'export_metadata', version: 2, args: {} });
  if (!answer.ok) return { result: failure(answer) };
  const body = answer.body as { resource_version?: unknown; metadata?: { sources?: unknown } };
  const sources = body.metadata?.sources;
  if (typeof body.resource_version !== 'number' || !Array.isArray(sources)) {
    return { result: done('retry', 'Hasura answered export_metadata without resource_version and sources', 200) };
  }
  const found = (sources as ExportedSource[]).find((s) => s.name === source);
  const usable = found && typeof found.configuration?.connection_info === 'object' ? found : undefined;
  return {
    resourceVersion: body.resource_version,
    metadata: body.metadata as Exported['metadata'],
    source: usable,
  };
}

/** After a write: the source must not be inconsistent, and a fresh export must show what was written. */
async function verify(api: HasuraMetadataApi, source: string, written: unknown): Promise<RotationResult> {
  const report = await api.call({ type: 'get_inconsistent_metadata', args: {} });
  if (!report.ok) return failure(report);
  const objects = (report.body as { inconsistent_objects?: unknown }).inconsistent_objects;
  const problem = sourceProblem(objects, source);
  if (problem !== undefined) {
    return done('retry', `Hasura reports source "${source}" inconsistent after the update: ${problem}`, 200);
  }
  const exported = await exportMetadata(api, source);
  if ('result' in exported) return exported.result;
  if (!sameDatabaseUrl(exported.source?.configuration.connection_info.database_url, written)) {
    return done('retry', `Hasura's export does not show the new URL for source "${source}"`, 200);
  }
  return done('delivered', undefined, 200);
}

/** The reason given for this source in a list of inconsistent objects (scrubbed), if it is there. */
function sourceProblem(objects: unknown, source: string): string | undefined {
  if (!Array.isArray(objects)) return undefined;
  for (const object of objects as Record<string, unknown>[]) {
    if (object?.type === 'source' && object.definition === source) {
      const text = [object.reason, object.message].filter((part) => typeof part === 'string').join(': ');
      return scrubSecrets(text.trim() || 'inconsistent');
    }
  }
  return undefined;
}

/** An error answer that ends the attempt. */
function failure(answer: Extract<MetadataAnswer, { ok: false }>): RotationResult {
  const { status, error } = answer;
  if (status === 401 || error.code === 'access-denied') return done('retry', ADMIN_SECRET_REFUSED, status);
  if (status === 404) {
    return done(
      'gave_up',
      "Hasura's metadata API answered 404: check the URL, and that HASURA_GRAPHQL_ENABLED_APIS includes metadata",
      status,
    );
  }
  if (status >= 500 || status === 200) return done('retry', `Hasura answered ${status}: ${error.error}`, status);
  return done('gave_up', `Hasura answered ${status} ${error.code}: ${error.error}`, status);
}
