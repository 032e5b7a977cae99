import type { HasuraMetadata } from './stand-in.js';
import type { ConnectionInfo, SourceMetadata } from './sources.js';

/**
 * Pool settings a test gives its sources: none of them Hasura's defaults (`DEFAULT_POOL_SETTINGS`), so a write
 * that dropped them (`pg_update_source` does not merge) shows.
 */
export const TEST_POOL_SETTINGS = { max_connections: 8, idle_timeout: 20, retries: 3, connection_lifetime: 300 };

/**
 * A postgres source as `export_metadata` shows one (../shared/hasura README §2): `databaseUrl` (a string or one of
 * the object forms, `{dynamic_from_file: path}` say), the tables tracked (schema `public`), `TEST_POOL_SETTINGS`
 * and `read-committed` unless `connection` says otherwise, and any other top-level fields of the source (`extra`:
 * `customization`, say) or of its configuration (`configuration`: `extensions_schema`, say).
 */
export function postgresSource(options: {
  name?: string;
  databaseUrl: unknown;
  tables?: string[];
  connection?: Partial<Omit<ConnectionInfo, 'database_url'>>;
  configuration?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}): SourceMetadata {
  return {
    name: options.name ?? 'default',
    kind: 'postgres',
    tables: (options.tables ?? []).map((name) => ({ table: { schema: 'public', name } })),
    configuration: {
      connection_info: {
        database_url: options.databaseUrl,
        pool_settings: { ...TEST_POOL_SETTINGS },
        isolation_level: 'read-committed',
        ...options.connection,
      },
      ...options.configuration,
    },
    ...options.extra,
  };
}

/** Metadata (version 3) holding these sources. */
export function hasuraMetadata(...sources: SourceMetadata[]): HasuraMetadata {
  return { version: 3, sources };
}
