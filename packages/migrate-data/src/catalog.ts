import type { DataMigrationTable } from '@hds/db';
import type { Sql } from 'postgres';

/** Namespaces that are the server's own, never copied nor dropped. */
const SYSTEM_NAMESPACES = `n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp)'`;
/** Objects an extension owns come with the extension. */
const NOT_EXTENSION_MEMBER = (cls: string, oid: string) =>
  `not exists (select 1 from pg_depend d where d.classid = '${cls}'::regclass and d.objid = ${oid} and d.deptype = 'e')`;

interface TableRow {
  oid: string;
  qname: string;
  kind: 'r' | 'p';
  parent: string | null;
  estimate: number;
  bytes: number;
}

/** A table that holds rows (not a partitioned parent), with its quoted, schema-qualified name. */
export interface LeafTable {
  name: string;
  rows: number;
  bytes: number;
}

/**
 * The source's tables as progress lists them: schema-qualified, partitions nested under their parent (a parent's
 * counts are its partitions' sums), with estimated rows (`reltuples`, or a count for a table never analyzed) and
 * bytes. Also the leaf tables, the ones the copy reads.
 */
export async function listTables(sql: Sql): Promise<{ tables: DataMigrationTable[]; leaves: LeafTable[] }> {
  const rows = await sql.unsafe<TableRow[]>(`
    select c.oid::text as oid, format('%I.%I', n.nspname, c.relname) as qname, c.relkind as kind,
           (select format('%I.%I', pn.nspname, p.relname) from pg_inherits i
              join pg_class p on p.oid = i.inhparent join pg_namespace pn on pn.oid = p.relnamespace
             where i.inhrelid = c.oid and c.relispartition) as parent,
           c.reltuples::float8 as estimate, pg_table_size(c.oid)::float8 as bytes
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and ${SYSTEM_NAMESPACES} and ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}
     order by n.nspname, c.relname`);
  const leaves: LeafTable[] = [];
  const byName = new Map<string, DataMigrationTable>();
  for (const row of rows) {
    let estimate = row.kind === 'p' ? 0 : row.estimate;
    if (estimate < 0) {
      const [counted] = await sql.unsafe<{ n: number }[]>(`select count(*)::float8 as n from only ${row.qname}`);
      estimate = counted?.n ?? 0;
    }
    const bytes = row.kind === 'p' ? 0 : row.bytes;
    byName.set(row.qname, { name: row.qname, rows: estimate, rowsCopied: 0, bytes, bytesCopied: 0, done: false });
    if (row.kind === 'r') leaves.push({ name: row.qname, rows: estimate, bytes });
  }
  const tables: DataMigrationTable[] = [];
  for (const row of rows) {
    const table = byName.get(row.qname)!;
    const parent = row.parent === null ? undefined : byName.get(row.parent);
    if (parent) (parent.partitions ??= []).push(table);
    else tables.push(table);
  }
  for (const table of tables) sumPartitions(table);
  return { tables, leaves };
}

/** A parent's counts are its partitions' sums, at every level. */
export function sumPartitions(table: DataMigrationTable): void {
  if (!table.partitions) return;
  for (const child of table.partitions) sumPartitions(child);
  table.rows = table.partitions.reduce((n, c) => n + c.rows, 0);
  table.rowsCopied = table.partitions.reduce((n, c) => n + c.rowsCopied, 0);
  table.bytes = table.partitions.reduce((n, c) => n + c.bytes, 0);
  table.bytesCopied = table.partitions.reduce((n, c) => n + c.bytesCopied, 0);
  table.done = table.partitions.every((c) => c.done);
}

/** Every table of a progress list, partitions included (depth first). */
export function flatten(tables: readonly DataMigrationTable[]): DataMigrationTable[] {
  return tables.flatMap((t) => [t, ...flatten(t.partitions ?? [])]);
}

/** Relations (tables, views, sequences, ...) by schema-qualified name, outside system schemas and extensions. */
export async function relationNames(sql: Sql): Promise<string[]> {
  const rows = await sql.unsafe<{ qname: string }[]>(`
    select format('%I.%I', n.nspname, c.relname) as qname
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S') and ${SYSTEM_NAMESPACES}
       and ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`);
  return rows.map((r) => r.qname);
}

/** What the target has before the migration adds anything: the oids of its own objects, by catalog. */
export type Baseline = Record<'namespaces' | 'classes' | 'types' | 'routines' | 'extensions', string[]>;

const BASELINE_QUERIES: Record<keyof Baseline, string> = {
  namespaces: `select n.oid::text as oid from pg_namespace n where ${SYSTEM_NAMESPACES}`,
  classes: `select c.oid::text as oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S', 'c') and ${SYSTEM_NAMESPACES}`,
  types: `select t.oid::text as oid from pg_type t join pg_namespace n on n.oid = t.typnamespace
           where t.typtype in ('b', 'd', 'e', 'r') and t.typelem = 0 and ${SYSTEM_NAMESPACES}`,
  routines: `select p.oid::text as oid from pg_proc p join pg_namespace n on n.oid = p.pronamespace
              where ${SYSTEM_NAMESPACES}`,
  extensions: `select e.oid::text as oid from pg_extension e`,
};

export async function takeBaseline(sql: Sql): Promise<Baseline> {
  const entries = await Promise.all(
    Object.entries(BASELINE_QUERIES).map(async ([key, query]) => {
      const rows = await sql.unsafe<{ oid: string }[]>(query);
      return [key, rows.map((r) => r.oid)] as const;
    }),
  );
  return Object.fromEntries(entries) as Baseline;
}

/**
 * Drops everything the migration created on the target: every object that is not in the baseline (extensions,
 * schemas, then relations, types and routines left in schemas that were there before), in one transaction.
 * Returns how many objects it dropped.
 */
export async function dropCreated(sql: Sql, baseline: Baseline): Promise<number> {
  return sql.begin(async (tx) => {
    // Names printed fully qualified and quoted: regclass, regtype and regprocedure qualify what is not on the path.
    await tx.unsafe(`set local search_path to ''`);
    const notIn = (column: string, list: string[]) =>
      `not (${column}::text = any(string_to_array('${list.join(',')}', ',')))`;
    const statements: string[] = [];
    const extensions = await tx.unsafe<{ name: string }[]>(
      `select format('%I', extname) as name from pg_extension where ${notIn('oid', baseline.extensions)}`,
    );
    statements.push(...extensions.map((e) => `drop extension if exists ${e.name} cascade`));
    const namespaces = await tx.unsafe<{ name: string }[]>(
      `select format('%I', n.nspname) as name from pg_namespace n where ${SYSTEM_NAMESPACES} and ${notIn('n.oid', baseline.namespaces)}`,
    );
    statements.push(...namespaces.map((n) => `drop schema if exists ${n.name} cascade`));
    const classes = await tx.unsafe<{ name: string; kind: string }[]>(
      `select c.oid::regclass::text as name, c.relkind as kind from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S', 'c') and ${SYSTEM_NAMESPACES}
          and ${notIn('c.oid', baseline.classes)}
        order by case c.relkind when 'v' then 0 when 'm' then 1 when 'p' then 2 when 'r' then 3 else 4 end`,
    );
    for (const c of classes) {
      const what =
        c.kind === 'v'
          ? 'view'
          : c.kind === 'm'
            ? 'materialized view'
            : c.kind === 'S'
              ? 'sequence'
              : c.kind === 'f'
                ? 'foreign table'
                : c.kind === 'c'
                  ? 'type'
                  : 'table';
      statements.push(`drop ${what} if exists ${c.name} cascade`);
    }
    const types = await tx.unsafe<{ name: string; domain: boolean }[]>(
      `select t.oid::regtype::text as name, t.typtype = 'd' as domain from pg_type t join pg_namespace n on n.oid = t.typnamespace
        where t.typtype in ('b', 'd', 'e', 'r') and t.typelem = 0 and ${SYSTEM_NAMESPACES}
          and ${notIn('t.oid', baseline.types)}`,
    );
    statements.push(...types.map((t) => `drop ${t.domain ? 'domain' : 'type'} if exists ${t.name} cascade`));
    const routines = await tx.unsafe<{ name: string; kind: string }[]>(
      `select p.oid::regprocedure::text as name, p.prokind as kind from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where ${SYSTEM_NAMESPACES} and ${notIn('p.oid', baseline.routines)}`,
    );
    statements.push(
      ...routines.map((r) => `drop ${r.kind === 'a' ? 'aggregate' : 'routine'} if exists ${r.name} cascade`),
    );
    for (const statement of statements) await tx.unsafe(statement);
    return statements.length;
  });
}

/** Every sequence's state on the source: where `nextval` would continue. */
export async function readSequences(sql: Sql): Promise<{ name: string; value: string; called: boolean }[]> {
  const sequences = await sql.unsafe<{ name: string }[]>(`
    select format('%I.%I', n.nspname, c.relname) as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind = 'S' and ${SYSTEM_NAMESPACES} and ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`);
  const out: { name: string; value: string; called: boolean }[] = [];
  for (const { name } of sequences) {
    const [row] = await sql.unsafe<{ value: string; called: boolean }[]>(
      `select last_value::text as value, is_called as called from ${name}`,
    );
    if (row) out.push({ name, ...row });
  }
  return out;
}

/** Sets the target's sequences to the source's values, in one transaction. */
export async function writeSequences(
  sql: Sql,
  sequences: readonly { name: string; value: string; called: boolean }[],
): Promise<void> {
  await sql.begin(async (tx) => {
    for (const s of sequences) await tx`select setval(${s.name}::regclass, ${s.value}::int8, ${s.called})`;
  });
}

/** The source's materialized views that hold data, in creation order. */
export async function populatedMatviews(sql: Sql): Promise<string[]> {
  const rows = await sql.unsafe<{ name: string }[]>(`
    select format('%I.%I', schemaname, matviewname) as name from pg_matviews m
      join pg_class c on c.relname = m.matviewname
      join pg_namespace n on n.oid = c.relnamespace and n.nspname = m.schemaname
     where m.ispopulated order by c.oid`);
  return rows.map((r) => r.name);
}

/** Populates materialized views; one built on another that is not populated yet waits for the next round. */
export async function refreshMatviews(sql: Sql, names: readonly string[]): Promise<void> {
  let pending = [...names];
  while (pending.length > 0) {
    const failed: string[] = [];
    let lastError: unknown;
    for (const name of pending) {
      try {
        await sql.unsafe(`refresh materialized view ${name}`);
      } catch (err) {
        failed.push(name);
        lastError = err;
      }
    }
    if (failed.length === pending.length) throw lastError;
    pending = failed;
  }
}
