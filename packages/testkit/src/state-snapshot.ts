import type { Redis } from 'ioredis';
import type postgres from 'postgres';

export interface RedisEntry {
  type: string;
  value: unknown;
}

/**
 * Every key under `${prefix}:` with its whole value, whatever its type (strings, hashes, lists, sets, sorted sets,
 * streams), keys sorted: to compare a Redis namespace before and after, or to search all of it.
 */
export async function dumpRedisKeys(redis: Redis, prefix: string): Promise<Record<string, RedisEntry>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const dump: Record<string, RedisEntry> = {};
  for (const key of [...new Set(keys)].sort()) {
    const type = await redis.type(key);
    dump[key] = { type, value: await readValue(redis, key, type) };
  }
  return dump;
}

async function readValue(redis: Redis, key: string, type: string): Promise<unknown> {
  switch (type) {
    case 'string':
      return redis.get(key);
    case 'hash':
      return redis.hgetall(key);
    case 'list':
      return redis.lrange(key, 0, -1);
    case 'set':
      return (await redis.smembers(key)).sort();
    case 'zset':
      return redis.zrange(key, 0, -1, 'WITHSCORES');
    case 'stream':
      return redis.xrange(key, '-', '+');
    case 'none': // expired between SCAN and TYPE
      return null;
    default:
      throw new Error(`key ${key} has a type this dump does not read: ${type}`);
  }
}

/** A column left out of a table dump (e.g. the encrypted value column). */
export interface ExcludedColumn {
  schema?: string;
  table: string;
  column: string;
}

/**
 * Every row of every table of the database (all schemas but Postgres's own), each row as JSON, ordered, keyed by
 * `schema.table`; `exclude` leaves columns out. To compare a database before and after, or to search all of it.
 */
export async function dumpTables(
  sql: postgres.Sql,
  options: { exclude?: readonly ExcludedColumn[] } = {},
): Promise<Record<string, unknown[]>> {
  const tables = await sql<{ table_schema: string; table_name: string }[]>`
    select table_schema, table_name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
    order by table_schema, table_name`;
  const dump: Record<string, unknown[]> = {};
  for (const { table_schema: schema, table_name: table } of tables) {
    const excluded = (options.exclude ?? [])
      .filter((e) => e.table === table && (e.schema ?? 'public') === schema)
      .map((e) => e.column);
    // The names go as one text: the service's clients do not send Postgres arrays (see @hds/db createDb).
    const rows = await sql<{ row: unknown }[]>`
      select to_jsonb(t) - string_to_array(${excluded.join(',')}, ',') as row
      from ${sql(schema)}.${sql(table)} t
      order by to_jsonb(t)::text`;
    dump[`${schema}.${table}`] = rows.map((r) => r.row);
  }
  return dump;
}
