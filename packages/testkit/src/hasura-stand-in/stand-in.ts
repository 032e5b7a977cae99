import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, type RunningServer } from '@hds/core';
import {
  failures,
  HasuraFailure,
  inconsistentSource,
  type HasuraErrorBody,
  type InconsistentSource,
} from './errors.js';
import { SourceRuntime, type EffectivePoolSettings, type SourceEnvironment, type SourceMetadata } from './sources.js';

/** `export_metadata`'s `metadata` (README §2): `version: 3`, `sources`, and whatever else was put in. */
export interface HasuraMetadata {
  version: number;
  sources: SourceMetadata[];
  [key: string]: unknown;
}

export interface HasuraStandInOptions {
  /** `HASURA_GRAPHQL_ADMIN_SECRET`; without one any caller is admin unless it asks for another role. */
  adminSecret?: string;
  /** The environment the server read at start: `from_env` sources resolve from it, and only from it. */
  env?: Record<string, string>;
  /** `HASURA_GRAPHQL_DYNAMIC_SECRETS_ALLOWED_PATH_PREFIX`. */
  allowedPathPrefix?: string;
  /** The metadata at start; sources that cannot connect start inconsistent (and out of the schema cache). */
  metadata?: HasuraMetadata;
  /** `HASURA_GRAPHQL_ENABLED_APIS` without `metadata`: `/v1/metadata` answers 404. */
  metadataApiDisabled?: boolean;
  /** How long a source's connect attempt may take (seconds, default 5). */
  connectTimeoutSeconds?: number;
  port?: number;
}

/** One call the stand-in answered (no bodies: they can hold passwords). */
export interface HasuraCall {
  type: string;
  status: number;
  code?: string;
  resourceVersion?: number;
}

/**
 * A stand-in for a self-hosted Hasura v2's metadata API, true to `../shared/hasura/`: the `/v1/metadata` envelope,
 * `x-hasura-admin-secret`, error bodies and codes, `resource_version` (409 when stale), `pg_update_source` replacing
 * the whole configuration (no merge), `replace_metadata` v2, `get_inconsistent_metadata`. Each consistent source is a
 * real postgres.js pool with the source's URL and pool settings: a changed URL is connected to before it is kept, so a
 * URL that does not work gets `invalid-configuration` and the old one stays.
 */
export interface HasuraStandIn {
  /** The base URL (`${url}/v1/metadata` is the API). */
  readonly url: string;
  readonly port: number;
  resourceVersion(): number;
  /** A deep copy of the stored metadata. */
  metadata(): HasuraMetadata;
  /** Someone else's metadata edit (the console, another tool): changes it and bumps `resource_version`. */
  editMetadata(edit: (metadata: HasuraMetadata) => void): Promise<void>;
  /**
   * Makes `edit` (as `editMetadata` does) right after the next `export_metadata` is answered and before any later
   * call is served: someone else's edit between a reader's read and its write.
   */
  afterNextExport(edit: (metadata: HasuraMetadata) => void): void;
  /** The calls answered so far, oldest first. */
  calls(): HasuraCall[];
  /** Runs a query through a consistent source's pool: it really connects with the source's URL. */
  query(source: string, text: string): Promise<Record<string, unknown>[]>;
  /** The URL a consistent source's pool connects with. */
  sourceUrl(source: string): string;
  /** Every URL a source was built with (at start and by each metadata change that connected), oldest first. */
  sourceUrlHistory(source: string): string[];
  /** The pool settings a consistent source runs with (stored ones over Hasura's defaults). */
  poolSettings(source: string): EffectivePoolSettings;
  /** Stops listening (connections refused), keeping state; `start()` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops and ends every pool. */
  close(): Promise<void>;
}

interface Envelope {
  type: string;
  args: unknown;
  version?: number;
  resource_version?: number;
}

const clone = <T>(value: T): T => structuredClone(value);

export async function startHasuraStandIn(options: HasuraStandInOptions = {}): Promise<HasuraStandIn> {
  const environment: SourceEnvironment = {
    env: { ...options.env },
    allowedPathPrefix: options.allowedPathPrefix,
    connectTimeoutSeconds: options.connectTimeoutSeconds ?? 5,
  };
  let metadata: HasuraMetadata = clone(options.metadata ?? { version: 3, sources: [] });
  let resourceVersion = 1;
  /** The schema cache: sources that resolved and connected at their last build. */
  const cache = new Map<string, SourceRuntime>();
  let inconsistent: InconsistentSource[] = [];
  const calls: HasuraCall[] = [];
  const urlHistory = new Map<string, string[]>();
  let afterExport: ((metadata: HasuraMetadata) => void) | undefined;
  // Hasura runs metadata operations one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  /** Builds `sources`; returns the runtimes that connected and the inconsistent ones. Throws on a bad definition. */
  async function buildAll(sources: SourceMetadata[]) {
    const built = new Map<string, SourceRuntime>();
    const failed: InconsistentSource[] = [];
    for (const source of sources) {
      const result = await SourceRuntime.build(source, environment);
      if ('runtime' in result) built.set(source.name, result.runtime);
      else failed.push(result.inconsistent);
    }
    return { built, failed };
  }

  async function installCache(built: Map<string, SourceRuntime>, failed: InconsistentSource[], names?: string[]) {
    const replaced = names ?? [...cache.keys()];
    for (const name of replaced) {
      await cache.get(name)?.close();
      cache.delete(name);
    }
    for (const [name, runtime] of built) {
      cache.set(name, runtime);
      const history = urlHistory.get(name) ?? [];
      if (history.at(-1) !== runtime.url) urlHistory.set(name, [...history, runtime.url]);
    }
    const touched = new Set([...(names ?? metadata.sources.map((s) => s.name)), ...failed.map((f) => f.definition)]);
    inconsistent = [...inconsistent.filter((i) => !touched.has(i.definition)), ...failed];
  }

  /** At start, a source whose URL cannot even be resolved (an unset variable) is inconsistent too. */
  async function initialBuild(): Promise<void> {
    const built = new Map<string, SourceRuntime>();
    const failed: InconsistentSource[] = [];
    for (const source of metadata.sources) {
      try {
        const one = await buildAll([source]);
        for (const [name, runtime] of one.built) built.set(name, runtime);
        failed.push(...one.failed);
      } catch (err) {
        failed.push(inconsistentSource(source.name, (err as Error).message));
      }
    }
    await installCache(built, failed);
  }

  /** Someone else's edit: changed sources are rebuilt (kept even if they no longer connect), the version bumped. */
  async function applyEdit(edit: (metadata: HasuraMetadata) => void): Promise<void> {
    const next = clone(metadata);
    edit(next);
    const changed = next.sources.filter((s) => {
      const before = metadata.sources.find((b) => b.name === s.name);
      return JSON.stringify(before?.configuration) !== JSON.stringify(s.configuration);
    });
    const { built, failed } = await buildAll(changed);
    metadata = next;
    await installCache(
      built,
      failed,
      changed.map((s) => s.name),
    );
    resourceVersion += 1;
  }

  const commands: Record<string, (envelope: Envelope) => Promise<unknown>> = {
    export_metadata: (envelope) =>
      Promise.resolve(
        envelope.version === 2 ? { resource_version: resourceVersion, metadata: clone(metadata) } : clone(metadata),
      ),

    get_inconsistent_metadata: () =>
      Promise.resolve({ is_consistent: inconsistent.length === 0, inconsistent_objects: clone(inconsistent) }),

    pg_update_source: async (envelope) => {
      const args = object(envelope.args, '$.args');
      const name = args.name;
      if (typeof name !== 'string') throw failures.parseFailed('the key "name" was not present', '$.args');
      const index = metadata.sources.findIndex((s) => s.name === name);
      const stored = metadata.sources[index];
      // The check reads the schema cache, which lacks sources that failed to resolve (README §3, inf).
      if (!stored || !cache.has(name)) throw failures.sourceMissing(name);
      const updated: SourceMetadata = { ...clone(stored) };
      if (args.configuration !== undefined) {
        // No merge: the sent configuration replaces the stored one (README §3).
        updated.configuration = clone(
          object(args.configuration, '$.args.configuration'),
        ) as SourceMetadata['configuration'];
        object(updated.configuration.connection_info, '$.args.configuration.connection_info');
      }
      if (args.customization !== undefined) updated.customization = clone(args.customization);
      const { built, failed } = await buildAll([updated]);
      if (failed.length > 0) throw failures.cannotConnect(failed);
      metadata = { ...metadata, sources: metadata.sources.map((s, i) => (i === index ? updated : s)) };
      await installCache(built, [], [name]);
      resourceVersion += 1;
      return { message: 'success' };
    },

    pg_add_source: async (envelope) => {
      const args = object(envelope.args, '$.args');
      const name = args.name;
      if (typeof name !== 'string') throw failures.parseFailed('the key "name" was not present', '$.args');
      // replace_configuration (deprecated, README §3) is not modelled: an existing name is already-exists.
      if (metadata.sources.some((s) => s.name === name)) throw failures.sourceExists(name);
      const added: SourceMetadata = {
        name,
        kind: 'postgres',
        tables: [],
        configuration: clone(object(args.configuration, '$.args.configuration')) as SourceMetadata['configuration'],
        ...(args.customization !== undefined && { customization: clone(args.customization) }),
      };
      object(added.configuration.connection_info, '$.args.configuration.connection_info');
      const { built, failed } = await buildAll([added]);
      if (failed.length > 0) throw failures.cannotConnect(failed);
      metadata = { ...metadata, sources: [...metadata.sources, added] };
      await installCache(built, [], [name]);
      resourceVersion += 1;
      return { message: 'success' };
    },

    replace_metadata: async (envelope) => {
      const args = object(envelope.args, '$.args');
      const v2 = envelope.version === 2 || 'metadata' in args;
      const next = object(v2 ? args.metadata : args, v2 ? '$.args.metadata' : '$.args') as unknown as HasuraMetadata;
      if (!Array.isArray(next.sources)) throw failures.parseFailed('the key "sources" was not present', '$.args');
      const { built, failed } = await buildAll(next.sources);
      if (failed.length > 0 && args.allow_inconsistent_metadata !== true) {
        for (const runtime of built.values()) await runtime.close();
        throw new HasuraFailure(400, {
          internal: failed,
          path: '$.args',
          error: 'cannot continue due to new inconsistent metadata',
          code: 'unexpected',
        });
      }
      metadata = clone(next);
      await installCache(built, failed);
      inconsistent = failed;
      resourceVersion += 1;
      // Not in the examples: version 2 answers with the consistency, version 1 with success.
      return v2 ? { is_consistent: failed.length === 0, inconsistent_objects: failed } : { message: 'success' };
    },

    reload_metadata: async () => {
      const { built, failed } = await buildAll(metadata.sources);
      await installCache(built, failed);
      inconsistent = failed;
      resourceVersion += 1;
      return failed.length === 0
        ? { is_consistent: true, message: 'success' }
        : { is_consistent: false, inconsistent_objects: failed };
    },
  };

  function authorize(request: IncomingMessage): void {
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const secret = header('x-hasura-admin-secret') ?? header('x-hasura-access-key');
    if (options.adminSecret !== undefined) {
      if (secret === undefined) throw failures.secretMissing();
      if (secret !== options.adminSecret) throw failures.secretWrong();
    }
    const role = header('x-hasura-role');
    if (role !== undefined && role !== 'admin') throw failures.notAdmin();
  }

  async function handleMetadata(
    request: IncomingMessage,
  ): Promise<{ status: number; body: unknown; call: HasuraCall }> {
    let type = '?';
    try {
      authorize(request);
      const envelope = parseEnvelope(await readBody(request));
      type = envelope.type;
      const command = commands[envelope.type];
      if (!command) throw failures.parseFailed(`unknown metadata command "${envelope.type}"`);
      return await serially(async () => {
        if (envelope.resource_version !== undefined && envelope.resource_version !== resourceVersion) {
          throw failures.conflict(envelope.resource_version);
        }
        const body = await command(envelope);
        return { status: 200, body, call: { type, status: 200, resourceVersion } };
      });
    } catch (err) {
      if (!(err instanceof HasuraFailure)) throw err;
      return { status: err.status, body: err.body, call: { type, status: err.status, code: err.body.code } };
    }
  }

  const handler = (request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method === 'GET' && (path === '/healthz' || path === '/hasura/healthz')) {
        const consistent = inconsistent.length === 0;
        const strict = (request.url ?? '').includes('strict=true');
        const [status, text] = consistent
          ? [200, 'OK']
          : strict
            ? [500, 'ERROR: inconsistent objects in schema']
            : [200, 'WARN: inconsistent objects in schema'];
        response.writeHead(status, { 'content-type': 'text/plain' }).end(text);
        return;
      }
      if (request.method === 'GET' && path === '/v1/version') {
        send(response, 200, { version: 'v2.48.0-stand-in', server_type: 'ce' });
        return;
      }
      if (request.method !== 'POST' || path !== '/v1/metadata' || options.metadataApiDisabled) {
        request.resume();
        const failure = failures.notFound();
        send(response, failure.status, failure.body);
        return;
      }
      const { status, body, call } = await handleMetadata(request);
      calls.push(call);
      send(response, status, body);
      if (call.type === 'export_metadata' && status === 200 && afterExport) {
        const edit = afterExport;
        afterExport = undefined;
        await serially(() => applyEdit(edit));
      }
    })().catch((err: unknown) => {
      const body: HasuraErrorBody = { path: '$', error: (err as Error).message, code: 'unexpected' };
      if (!response.headersSent) send(response, 500, body);
    });
  };

  await initialBuild();
  let server: RunningServer | undefined = await listen(handler, { port: options.port ?? 0, host: '127.0.0.1' });
  const port = server.port;

  const runtime = (source: string): SourceRuntime => {
    const found = cache.get(source);
    if (!found) throw new Error(`source ${source} is not in the stand-in's schema cache (inconsistent or missing)`);
    return found;
  };

  return {
    url: server.url,
    port,
    resourceVersion: () => resourceVersion,
    metadata: () => clone(metadata),
    editMetadata: (edit) => serially(() => applyEdit(edit)),
    afterNextExport: (edit) => {
      afterExport = edit;
    },
    calls: () => [...calls],
    query: (source, text) => runtime(source).query(text),
    sourceUrl: (source) => runtime(source).url,
    sourceUrlHistory: (source) => [...(urlHistory.get(source) ?? [])],
    poolSettings: (source) => ({ ...runtime(source).poolSettings }),
    stop: async () => {
      await server?.close(100);
      server = undefined;
    },
    start: async () => {
      server ??= await listen(handler, { port, host: '127.0.0.1' });
    },
    close: async () => {
      await server?.close(100);
      server = undefined;
      await serially(async () => {
        for (const source of cache.values()) await source.close();
        cache.clear();
      });
    },
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw failures.parseFailed('expected an object', path);
  }
  return value as Record<string, unknown>;
}

function parseEnvelope(text: string): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw failures.parseFailed('invalid JSON');
  }
  const body = object(parsed, '$');
  if (typeof body.type !== 'string') throw failures.parseFailed('the key "type" was not present');
  const version = body.version;
  const resourceVersion = body.resource_version;
  if (version !== undefined && typeof version !== 'number') throw failures.parseFailed('version: expected a number');
  if (resourceVersion !== undefined && typeof resourceVersion !== 'number') {
    throw failures.parseFailed('resource_version: expected a number');
  }
  return { type: body.type, args: body.args ?? {}, version, resource_version: resourceVersion };
}
