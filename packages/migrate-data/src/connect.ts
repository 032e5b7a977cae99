import postgres, { type Sql } from 'postgres';

/**
 * Session settings both sides share, so that a row's text form (what COPY sends and the checksums hash) does not
 * depend on either server's defaults.
 */
const STABLE_TEXT = {
  TimeZone: 'UTC',
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
  bytea_output: 'hex',
} as const;

/** A client of the source or the target database (not the service's own). */
export function connectDatabase(url: string, options: { max?: number; role: 'source' | 'target' }): Sql {
  return postgres(url, {
    max: options.max ?? 4,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: () => {},
    // No array types are read or sent (see @hds/db's client for why this is off).
    fetch_types: false,
    connection: { application_name: `hds-migrate-${options.role}`, ...STABLE_TEXT },
  });
}

/** The server's major version (`server_version_num` / 10000). */
export async function serverMajor(sql: Sql): Promise<number> {
  const [row] = await sql<{ v: string }[]>`select current_setting('server_version_num') as v`;
  return Math.floor(Number(row?.v ?? 0) / 10_000);
}
