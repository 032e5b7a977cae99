import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { failures, inconsistentSource, type InconsistentSource } from './errors.js';

/** A source as `export_metadata` shows it (README §2); fields the stand-in does not read are kept as they are. */
export interface SourceMetadata {
  name: string;
  kind: string;
  tables: unknown[];
  configuration: SourceConfiguration;
  customization?: unknown;
  [key: string]: unknown;
}

export interface SourceConfiguration {
  connection_info: ConnectionInfo;
  [key: string]: unknown;
}

export interface ConnectionInfo {
  database_url: unknown;
  pool_settings?: PoolSettings;
  use_prepared_statements?: boolean;
  isolation_level?: string;
  [key: string]: unknown;
}

export interface PoolSettings {
  max_connections?: number;
  idle_timeout?: number;
  retries?: number;
  pool_timeout?: number;
  connection_lifetime?: number;
}

/** What a source runs with when its `pool_settings` omit a key (README §2; code C5). */
export const DEFAULT_POOL_SETTINGS = {
  max_connections: 50,
  idle_timeout: 180,
  retries: 1,
  connection_lifetime: 600,
};

export type EffectivePoolSettings = PoolSettings & typeof DEFAULT_POOL_SETTINGS;

/** What the server read at start: its environment snapshot and `HASURA_GRAPHQL_DYNAMIC_SECRETS_ALLOWED_PATH_PREFIX`. */
export interface SourceEnvironment {
  env: Readonly<Record<string, string>>;
  allowedPathPrefix: string | undefined;
  connectTimeoutSeconds: number;
}

/** Where a source's URL comes from, resolved (README §2, `database-url-forms.json`). */
type UrlOrigin =
  { kind: 'string' | 'from_env' | 'connection_parameters'; url: string } | { kind: 'file'; path: string };

/** Parses `database_url`: a string or an object with exactly one of the three keys (code C6); throws a HasuraFailure. */
function urlOrigin(form: unknown, environment: SourceEnvironment): UrlOrigin {
  if (typeof form === 'string') return { kind: 'string', url: form };
  if (typeof form !== 'object' || form === null || Array.isArray(form)) {
    throw failures.parseFailed('database_url: expected a string or an object', '$.args.configuration');
  }
  const keys = Object.keys(form);
  const record = form as Record<string, unknown>;
  if (keys.length === 1 && typeof record.from_env === 'string') {
    const url = environment.env[record.from_env];
    if (url === undefined) throw failures.envMissing(record.from_env);
    return { kind: 'from_env', url };
  }
  if (keys.length === 1 && typeof record.dynamic_from_file === 'string') {
    const path = resolve(record.dynamic_from_file);
    const prefix = environment.allowedPathPrefix;
    if (!prefix || !path.startsWith(resolve(prefix))) throw failures.pathRefused(record.dynamic_from_file);
    return { kind: 'file', path };
  }
  if (keys.length === 1 && typeof record.connection_parameters === 'object' && record.connection_parameters) {
    const p = record.connection_parameters as Record<string, unknown>;
    const text = (value: unknown, fallback = '') =>
      typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;
    const url = new URL('postgres://localhost');
    url.hostname = text(p.host);
    url.port = text(p.port, '5432');
    url.username = text(p.username);
    if (typeof p.password === 'string') url.password = p.password;
    url.pathname = `/${text(p.database)}`;
    return { kind: 'connection_parameters', url: url.href };
  }
  throw failures.parseFailed(
    'database_url: expected exactly one of from_env, connection_parameters, dynamic_from_file',
    '$.args.configuration',
  );
}

/** `dynamic_from_file`: the whole file, whitespace-stripped, read at each connect (code C7). */
function readUrlFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new Error(`Error reading connection string dynamically from ${path}: ${(err as Error).message}`);
  }
}

/** A built source: a postgres.js pool with the source's URL and pool settings, as Hasura keeps one per source. */
export class SourceRuntime {
  private sql: postgres.Sql;
  private constructor(
    readonly name: string,
    private readonly origin: UrlOrigin,
    readonly poolSettings: EffectivePoolSettings,
    private currentUrl: string,
    private readonly environment: SourceEnvironment,
  ) {
    this.sql = this.pool(currentUrl);
  }

  /** Resolves the source's URL and connects once; a source that cannot connect is returned as inconsistent. */
  static async build(
    source: SourceMetadata,
    environment: SourceEnvironment,
  ): Promise<{ runtime: SourceRuntime } | { inconsistent: InconsistentSource }> {
    const info = source.configuration.connection_info;
    const origin = urlOrigin(info.database_url, environment);
    const poolSettings = { ...DEFAULT_POOL_SETTINGS, ...info.pool_settings };
    let url: string;
    try {
      url = origin.kind === 'file' ? readUrlFile(origin.path) : origin.url;
    } catch (err) {
      return { inconsistent: inconsistentSource(source.name, (err as Error).message) };
    }
    const runtime = new SourceRuntime(source.name, origin, poolSettings, url, environment);
    try {
      await runtime.sql`select 1`;
      return { runtime };
    } catch (err) {
      await runtime.close();
      return { inconsistent: inconsistentSource(source.name, (err as Error).message) };
    }
  }

  /** The URL the pool connects with now. */
  get url(): string {
    return this.currentUrl;
  }

  /**
   * Runs a query through the source's pool. A `dynamic_from_file` source re-reads its file first, as Hasura does for
   * each new connection; a changed file replaces the pool (old connections would keep old credentials until closed).
   */
  async query(text: string): Promise<Record<string, unknown>[]> {
    if (this.origin.kind === 'file') {
      const url = readUrlFile(this.origin.path);
      if (url !== this.currentUrl) {
        const old = this.sql;
        this.sql = this.pool(url);
        this.currentUrl = url;
        await old.end({ timeout: 1 });
      }
    }
    return [...(await this.sql.unsafe(text))] as Record<string, unknown>[];
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 1 });
  }

  private pool(url: string): postgres.Sql {
    return postgres(url, {
      max: this.poolSettings.max_connections,
      idle_timeout: this.poolSettings.idle_timeout,
      max_lifetime: this.poolSettings.connection_lifetime,
      connect_timeout: this.environment.connectTimeoutSeconds,
      onnotice: () => {},
      connection: { application_name: `hasura-stand-in ${this.name}` },
    });
  }
}
