/**
 * The forms of a source's `connection_info.database_url` (`../shared/hasura/README.md` §2,
 * `examples/database-url-forms.json`) and what a rotation does with each (§7 step 2).
 */
export type DatabaseUrlForm =
  | { kind: 'string'; url: string }
  | { kind: 'connection_parameters'; parameters: Record<string, unknown> }
  | { kind: 'from_env'; variable: string }
  | { kind: 'dynamic_from_file'; path: string }
  | { kind: 'unknown' };

export function databaseUrlForm(value: unknown): DatabaseUrlForm {
  if (typeof value === 'string') return { kind: 'string', url: value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'unknown' };
  const record = value as Record<string, unknown>;
  if (Object.keys(record).length !== 1) return { kind: 'unknown' };
  if (typeof record.from_env === 'string') return { kind: 'from_env', variable: record.from_env };
  if (typeof record.dynamic_from_file === 'string')
    return { kind: 'dynamic_from_file', path: record.dynamic_from_file };
  const parameters = record.connection_parameters;
  if (typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters)) {
    return { kind: 'connection_parameters', parameters: parameters as Record<string, unknown> };
  }
  return { kind: 'unknown' };
}

/**
 * The `database_url` to write for `url`, in the form the source already uses: a string stays a string;
 * `connection_parameters` get their host, port, user, password and database refilled (any other key kept).
 */
export function rewrittenDatabaseUrl(
  form: Extract<DatabaseUrlForm, { kind: 'string' | 'connection_parameters' }>,
  url: string,
): unknown {
  if (form.kind === 'string') return url;
  const parsed = new URL(url);
  const parameters: Record<string, unknown> = {
    ...form.parameters,
    host: parsed.hostname,
    port: parsed.port === '' ? 5432 : Number(parsed.port),
    username: decodeURIComponent(parsed.username),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
  };
  if (parsed.password === '') delete parameters.password;
  else parameters.password = decodeURIComponent(parsed.password);
  return { connection_parameters: parameters };
}

/** Whether two `database_url` values are the same (objects compared by their keys, in any order). */
export function sameDatabaseUrl(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}
