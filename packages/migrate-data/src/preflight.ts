import type { DataMigrationTable } from '@hds/db';
import type { HerokuClient } from '@hds/heroku';
import { DATABASE_CONFIG_VAR, SyncError } from '@hds/sync';
import type { Sql } from 'postgres';
import { listTables, relationNames } from './catalog.js';
import { serverMajor } from './connect.js';
import { checkPgDumpVersion, pgDumpMajor } from './pg-dump.js';

export interface PreflightSettings {
  /** The pg_dump binary (default `pg_dump` on the PATH). */
  pgDumpBin?: string;
  /**
   * Refuses a target URL whose host the outbound-address rule forbids (private, loopback, link-local, metadata
   * addresses unless allowed): the same rule as destinations'. Throws a `SyncError('invalid')`.
   */
  checkTarget(url: string): Promise<void>;
}

/** The app's current `DATABASE_URL`, from Heroku. */
export async function fetchSourceUrl(options: { heroku: HerokuClient; appId: string }): Promise<string> {
  const config = await options.heroku.getConfigVars(options.appId);
  const url = config[DATABASE_CONFIG_VAR];
  if (!url) throw new SyncError('invalid', `the Heroku app has no ${DATABASE_CONFIG_VAR}`);
  return url;
}

/** Connects to a database, turning a refusal into a clear `invalid` error (the URL itself never appears). */
async function reach(sql: Sql, which: 'source' | 'target'): Promise<number> {
  try {
    return await serverMajor(sql);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new SyncError('invalid', `cannot connect to the ${which} database${code ? ` (${code})` : ''}`, {
      cause: err,
    });
  }
}

/**
 * Checks source and target before anything is written: both answer, the local pg_dump can read the source's
 * version, and the target has no table (or view, sequence) of the same name as one of the source's. Estimates
 * rows and bytes.
 */
export async function checkSources(options: { source: Sql; target: Sql; settings: PreflightSettings }): Promise<{
  tables: DataMigrationTable[];
  bytesTotal: number;
  rowsTotal: number;
  sourceMajor: number;
}> {
  const sourceMajor = await reach(options.source, 'source');
  await reach(options.target, 'target');
  checkPgDumpVersion({ pgDump: await pgDumpMajor({ bin: options.settings.pgDumpBin }), source: sourceMajor });
  const [mine, theirs] = await Promise.all([relationNames(options.source), relationNames(options.target)]);
  const taken = new Set(theirs);
  const clashes = mine.filter((name) => taken.has(name)).sort();
  if (clashes.length > 0) {
    const shown = clashes.slice(0, 10).join(', ');
    const more = clashes.length > 10 ? ` and ${clashes.length - 10} more` : '';
    throw new SyncError(
      'invalid',
      `the target database already has tables of the same names as the source's: ${shown}${more}; ` +
        'use an empty database (nothing was changed)',
    );
  }
  const { tables, leaves } = await listTables(options.source);
  return {
    tables,
    sourceMajor,
    bytesTotal: leaves.reduce((n, t) => n + t.bytes, 0),
    rowsTotal: leaves.reduce((n, t) => n + t.rows, 0),
  };
}
