import type postgres from 'postgres';

/** Commits (`hds_commit_release`) of this database that wait for a lock now, as pg_stat_activity shows them. */
export async function commitsWaitingOnLock(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and query ilike '%hds_commit_release%'`;
  return row?.n ?? 0;
}

interface Snapshot {
  links: Array<{ id: string; project_id: string; applied_version: number }>;
  vars: Array<{ project_id: string; name: string; value_fingerprint: string | null }>;
  audit: Array<{
    id: number;
    link_id: string | null;
    project_id: string;
    var_name: string;
    release_version: number | null;
    before_fingerprint: string | null;
    after_fingerprint: string | null;
  }>;
}

/**
 * Whether every synced env var agrees with its audit trail, read in one statement (one snapshot), so a commit
 * written in part would show:
 * - each var's `env_synced` rows form a chain: a row's before-fingerprint is the previous row's after-fingerprint
 *   and release versions rise strictly (no change applied twice, none without its row);
 * - the var's stored fingerprint is its last row's after-fingerprint (no value without its audit row);
 * - the link's applied version is its last row's release (no version moved without its change). This holds
 *   when every applied release changed the var, as credential rotations do.
 */
export async function auditConsistency(sql: postgres.Sql): Promise<{ inconsistencies: string[] }> {
  const [snapshot] = await sql<Snapshot[]>`
    select
      (select coalesce(json_agg(l), '[]') from (select id, project_id, applied_version from heroku_links) l) as links,
      (select coalesce(json_agg(v), '[]')
         from (select project_id, name, value_fingerprint from project_env_vars where source = 'heroku') v) as vars,
      (select coalesce(json_agg(a order by a.id), '[]')
         from (select id, link_id, project_id, var_name, release_version, before_fingerprint, after_fingerprint
               from audit_log where action = 'env_synced') a) as audit`;
  if (!snapshot) throw new Error('no snapshot');
  const inconsistencies: string[] = [];
  for (const link of snapshot.links) {
    const rows = snapshot.audit.filter((a) => a.link_id === link.id);
    const names = new Set(rows.map((r) => r.var_name));
    for (const name of names) {
      const trail = rows.filter((r) => r.var_name === name);
      const where = `link ${link.id} ${name}`;
      trail.forEach((row, i) => {
        const previous = trail[i - 1];
        if (!previous) return;
        if (row.before_fingerprint !== previous.after_fingerprint)
          inconsistencies.push(`${where}: audit row ${row.id} does not start where row ${previous.id} ended`);
        if ((row.release_version ?? 0) <= (previous.release_version ?? 0))
          inconsistencies.push(
            `${where}: audit row ${row.id} (v${row.release_version}) is not above v${previous.release_version}`,
          );
      });
      const last = trail.at(-1)!;
      const stored = snapshot.vars.find((v) => v.project_id === link.project_id && v.name === name);
      if (stored?.value_fingerprint !== last.after_fingerprint)
        inconsistencies.push(`${where}: the stored value is not the one audit row ${last.id} describes`);
      if (last.release_version !== link.applied_version)
        inconsistencies.push(
          `${where}: applied v${link.applied_version} but the last audit row is v${last.release_version}`,
        );
    }
    const unaudited = snapshot.vars.filter((v) => v.project_id === link.project_id && !names.has(v.name));
    for (const v of unaudited) inconsistencies.push(`link ${link.id} ${v.name}: synced value without an audit row`);
  }
  return { inconsistencies };
}
