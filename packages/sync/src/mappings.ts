import { mappingTransforms, type MappingTransform, type SyncMapping } from '@hds/db';
import { z } from 'zod';
import { SyncError } from './errors.js';

export const DEFAULT_MAPPINGS: readonly SyncMapping[] = [
  { from: 'DATABASE_URL', to: 'HASURA_GRAPHQL_DATABASE_URL', transforms: [] },
];

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const varName = z.string().regex(VAR_NAME, 'must be a config var name (letters, digits, _)');

/**
 * The API's `mappings`: `{"DATABASE_URL": "HASURA_GRAPHQL_DATABASE_URL"}`, or with transforms
 * `{"DATABASE_URL": {"to": "PG_URL", "transforms": ["postgresql-scheme", "sslmode-require"]}}`.
 */
export const mappingsInputSchema = z
  .record(
    varName,
    z.union([
      varName,
      z.strictObject({ to: varName, transforms: z.array(z.enum(mappingTransforms)).max(4).default([]) }),
    ]),
  )
  .refine((m) => Object.keys(m).length > 0, 'needs at least one mapping')
  .refine((m) => Object.keys(m).length <= 20, 'at most 20 mappings');

/** Validates API input into stored mappings; two config vars may not write the same env var. */
export function parseMappings(input: unknown): SyncMapping[] {
  if (input === undefined) return [...DEFAULT_MAPPINGS];
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    const bad = Object.keys(input).find((key) => !VAR_NAME.test(key));
    if (bad !== undefined)
      throw new SyncError('invalid', `mappings: ${JSON.stringify(bad.slice(0, 64))} is not a config var name`);
  }
  const parsed = mappingsInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SyncError('invalid', `mappings: ${issue?.path.join('.') || ''} ${issue?.message ?? 'invalid'}`.trim());
  }
  const mappings = Object.entries(parsed.data).map(([from, target]): SyncMapping =>
    typeof target === 'string'
      ? { from, to: target, transforms: [] }
      : { from, to: target.to, transforms: [...new Set(target.transforms)] },
  );
  const targets = new Set(mappings.map((m) => m.to));
  if (targets.size !== mappings.length)
    throw new SyncError('invalid', 'mappings: two config vars map to the same env var');
  return mappings;
}

/** Stored mappings in the API's shape. */
export function formatMappings(
  mappings: readonly SyncMapping[],
): Record<string, string | { to: string; transforms: MappingTransform[] }> {
  return Object.fromEntries(
    mappings.map((m) => [m.from, m.transforms.length === 0 ? m.to : { to: m.to, transforms: m.transforms }]),
  );
}

function applyTransform(value: string, transform: MappingTransform): string {
  switch (transform) {
    case 'postgresql-scheme':
      // Some clients reject `postgres://` and want `postgresql://`.
      return value.replace(/^postgres:\/\//, 'postgresql://');
    case 'sslmode-require': {
      if (/[?&]sslmode=/.test(value)) return value;
      return `${value}${value.includes('?') ? '&' : '?'}sslmode=require`;
    }
  }
}

/** The env var values a release's config gives, by target name. Config vars the release lacks are reported. */
export function mapConfig(options: { mappings: readonly SyncMapping[]; config: Readonly<Record<string, string>> }): {
  values: Map<string, string>;
  missing: string[];
} {
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const mapping of options.mappings) {
    const raw = options.config[mapping.from];
    if (raw === undefined) {
      missing.push(mapping.from);
      continue;
    }
    values.set(mapping.to, mapping.transforms.reduce(applyTransform, raw));
  }
  return { values, missing };
}
