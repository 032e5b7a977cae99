import { herokuErrors } from '../support/heroku-error.js';

export const DEFAULT_PAGE_SIZE = 200;
export const MAX_PAGE_SIZE = 1000;

/** A parsed `Range` header: `<field> [[|]start]..[end][; max=N[, order=asc|desc]]`. */
export interface RangeSpec {
  field: string;
  start: { value: string; exclusive: boolean } | undefined;
  end: string | undefined;
  max: number;
  order: 'asc' | 'desc';
}

/** How a list is paged: the fields `Range` may name (the first is the default) and how to read them. */
export interface ListShape<T> {
  fields: readonly string[];
  /** Numeric fields (release `version`) compare as numbers, the rest as strings. */
  numericFields?: readonly string[];
  value: (item: T, field: string) => string | number;
}

const RANGE_PATTERN = /^\s*([a-z_]+)\s*(?:([[\]])?([^.\s;,]*))?\.\.([^\s;,]*)\s*(?:;\s*(.*))?$/i;

export function parseRange(header: string | undefined, fields: readonly string[]): RangeSpec {
  const spec: RangeSpec = { field: fields[0]!, start: undefined, end: undefined, max: DEFAULT_PAGE_SIZE, order: 'asc' };
  if (header === undefined || header.trim() === '') return spec;
  const match = RANGE_PATTERN.exec(header);
  if (!match) throw herokuErrors.rangeNotSatisfiable(`Invalid range: ${header.slice(0, 100)}`);
  const [, field, bracket, start, end, params] = match;
  if (!fields.includes(field!)) {
    throw herokuErrors.rangeNotSatisfiable(`Range field must be one of: ${fields.join(', ')}.`);
  }
  spec.field = field!;
  if (start) spec.start = { value: start, exclusive: bracket === ']' };
  if (end) spec.end = end;
  for (const param of (params ?? '').split(/[;,]/)) {
    const trimmed = param.trim();
    if (trimmed === '') continue;
    const [key, value] = trimmed.split('=').map((s) => s.trim());
    if (key === 'max') {
      const max = Number(value);
      if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE_SIZE) {
        throw herokuErrors.rangeNotSatisfiable(`Range max must be between 1 and ${MAX_PAGE_SIZE}.`);
      }
      spec.max = max;
    } else if (key === 'order') {
      if (value !== 'asc' && value !== 'desc')
        throw herokuErrors.rangeNotSatisfiable('Range order must be asc or desc.');
      spec.order = value;
    } else {
      throw herokuErrors.rangeNotSatisfiable(`Unknown range parameter: ${key ?? ''}`);
    }
  }
  return spec;
}

export interface Page<T> {
  items: T[];
  /** Set when more items remain: what the client sends back as `Range` (answered with 206). */
  nextRange: string | undefined;
  contentRange: string | undefined;
}

function compare(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Sorts, filters and cuts a list as Heroku does for `spec`. */
export function pageList<T>(items: readonly T[], spec: RangeSpec, shape: ListShape<T>): Page<T> {
  const numeric = shape.numericFields?.includes(spec.field) ?? false;
  const key = (item: T) => {
    const value = shape.value(item, spec.field);
    return numeric ? Number(value) : String(value);
  };
  const bound = (raw: string) => (numeric ? Number(raw) : raw);
  const direction = spec.order === 'desc' ? -1 : 1;
  const sorted = [...items].sort((a, b) => direction * compare(key(a), key(b)));
  const selected = sorted.filter((item) => {
    const k = key(item);
    if (spec.start) {
      const c = direction * compare(k, bound(spec.start.value));
      if (c < 0 || (c === 0 && spec.start.exclusive)) return false;
    }
    if (spec.end !== undefined && direction * compare(k, bound(spec.end)) > 0) return false;
    return true;
  });
  const page = selected.slice(0, spec.max);
  const params = `max=${spec.max}${spec.order === 'desc' ? ', order=desc' : ''}`;
  const first = page[0];
  const last = page[page.length - 1];
  return {
    items: page,
    nextRange:
      selected.length > page.length && last !== undefined ? `${spec.field} ]${key(last)}..; ${params}` : undefined,
    contentRange:
      first !== undefined && last !== undefined ? `${spec.field} ${key(first)}..${key(last)}; ${params}` : undefined,
  };
}
