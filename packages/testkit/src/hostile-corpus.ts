/**
 * Hostile input shared by the ingress's and the admin's bad-input tests: ids that are not what they claim,
 * SQL-looking text, path tricks, deeply nested JSON, wrong types. Values only; each test decides where they go.
 */

/** A well-formed UUID the hostile ids are variations of. */
export const SAMPLE_UUID = '0b7cbb4e-4a87-4f55-9f4c-2a3f0e1c9d11';

export interface HostileValue {
  name: string;
  value: string;
}

const fullwidthDigits = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCodePoint(0xff10 + Number(d)));

/** Strings that are not UUIDs, for ids in paths and bodies: SQL, unicode look-alikes, traversal, sizes. */
export const hostileIds: readonly HostileValue[] = [
  { name: 'SQL tautology', value: "' OR '1'='1" },
  { name: 'SQL stacked statement', value: '1; DROP TABLE projects; --' },
  { name: 'a UUID followed by SQL', value: `${SAMPLE_UUID}' OR '1'='1` },
  { name: 'SQL union select', value: "x' UNION SELECT value_encrypted FROM project_env_vars --" },
  { name: 'a UUID with fullwidth digits', value: fullwidthDigits(SAMPLE_UUID) },
  { name: 'a UUID with a Cyrillic letter', value: SAMPLE_UUID.replace('a', '\u0430') },
  { name: 'a UUID and a zero-width space', value: `${SAMPLE_UUID}\u200b` },
  { name: 'a right-to-left override and a UUID', value: `\u202e${SAMPLE_UUID}` },
  { name: 'a UUID and a NUL', value: `${SAMPLE_UUID}\u0000` },
  { name: 'a UUID and a newline', value: `${SAMPLE_UUID}\n` },
  { name: 'a UUID in braces', value: `{${SAMPLE_UUID}}` },
  { name: 'a UUID without dashes', value: SAMPLE_UUID.replaceAll('-', '') },
  { name: 'emoji', value: '\u{1F4A5}\u{1F525}' },
  { name: 'path traversal', value: '../../admin/queues' },
  { name: 'encoded path traversal', value: '..%2f..%2fadmin%2fqueues' },
  { name: 'double-encoded traversal', value: '%252e%252e%252f' },
  { name: 'a prototype key', value: '__proto__' },
  { name: 'constructor', value: 'constructor' },
  { name: 'a number', value: '1' },
  { name: 'a negative number', value: '-1' },
  { name: 'a query operator', value: '{"$ne":null}' },
  { name: 'a blank', value: ' ' },
  { name: '4,000 characters', value: 'a'.repeat(4000) },
];

/**
 * Path segments as written on the wire (already percent-encoded or raw): traversal, bad or overlong encodings,
 * NUL, bidi controls. Send them with `sendHttp`, which does not normalise paths.
 */
export const hostilePathSegments: readonly string[] = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2E%2F%2E%2E%2Fadmin%2Fqueues',
  '..%2f..%2fapi%2fprojects',
  '..%5c..%5c',
  '%00',
  '%ZZ',
  '%',
  '%C0%AE%C0%AE',
  '%E2%80%AE',
  '%F0%9F%92%A5',
  `${SAMPLE_UUID}%00`,
  `${SAMPLE_UUID};x=1`,
  'a'.repeat(8000),
];

/** SQL-looking text for string fields: quotes, comments, stacked statements, dollar quoting, sleeps. */
export const sqlLookingValues: readonly string[] = [
  "' OR 1=1 --",
  "'; DROP TABLE projects; --",
  '1); DELETE FROM audit_log; --',
  '$$; SELECT pg_sleep(5); --$$',
  "\\'; UPDATE heroku_links SET state = 'active'; --",
];

/** `depth` nested arrays, as JSON text: `[[[...]]]`. */
export function deepArrays(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** `depth` nested objects, as JSON text: `{"a":{"a":...1}}`. */
export function deepObjects(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** JSON values of every type, for a field that expects another one. */
export const jsonOfEveryType: readonly unknown[] = [null, true, 0, -1, 1.5, 'text', [], [1], {}, { a: 1 }];
