import type { Sql } from 'postgres';

export interface TableCheck {
  table: string;
  rows: number;
  /**
   * Order-independent: the sum of a 64-bit hash of each row's text form (`hashtextextended`, PostgreSQL 11+: the same
   * function on both sides, several times cheaper than md5).
   */
  checksum: string;
}

/** Row count and checksum of one table (its own rows, not its partitions'). */
export async function checkTable(sql: Sql, table: string): Promise<TableCheck> {
  const [row] = await sql.unsafe<{ rows: number; checksum: string }[]>(`
    select count(*)::float8 as rows,
           coalesce(sum(hashtextextended("hds row"::text, 0)::numeric), 0)::text as checksum
      from only ${table} as "hds row"`);
  return { table, rows: row?.rows ?? 0, checksum: row?.checksum ?? '0' };
}

/** Compares every table on both sides; the tables whose counts or checksums differ, with what differs. */
export async function verifyTables(options: {
  source: Sql;
  target: Sql;
  tables: readonly string[];
  /** Tables checked at once. */
  concurrency?: number;
}): Promise<{ ok: true; checks: TableCheck[] } | { ok: false; reason: string; tables: string[] }> {
  const results: { table: string; source: TableCheck; target: TableCheck }[] = [];
  const queue = [...options.tables];
  const next = async (): Promise<void> => {
    for (let table = queue.shift(); table !== undefined; table = queue.shift()) {
      const [source, target] = await Promise.all([
        checkTable(options.source, table),
        checkTable(options.target, table),
      ]);
      results.push({ table, source, target });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, next));
  results.sort((a, b) => options.tables.indexOf(a.table) - options.tables.indexOf(b.table));
  const details: string[] = [];
  const differ: string[] = [];
  for (const { table, source, target } of results) {
    if (source.rows !== target.rows) {
      differ.push(table);
      details.push(`${table}: ${source.rows} rows on the source, ${target.rows} on the target`);
    } else if (source.checksum !== target.checksum) {
      differ.push(table);
      details.push(`${table}: checksums differ`);
    }
  }
  if (differ.length > 0) return { ok: false, reason: `verification failed: ${details.join('; ')}`, tables: differ };
  return { ok: true, checks: results.map((r) => r.source) };
}
