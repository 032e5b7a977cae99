import { z } from 'zod';

/** The outcome of checking an environment against a schema, without side effects. */
export type EnvResult<T> = { ok: true; env: T } | { ok: false; problems: string[] };

/** Checks `source` against `schema` and lists every problem by variable name. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: Record<string, string | undefined>,
): EnvResult<z.infer<S>> {
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    // An empty string means "not set": a blank secret must never pass as a value.
    if (value !== undefined && value.trim() !== '') cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (result.success) return { ok: true, env: result.data };
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.length > 0 ? issue.path.join('.') : '(environment)';
    const missing = issue.code === 'invalid_type' && cleaned[String(issue.path[0])] === undefined;
    return `${name}: ${missing ? 'is required but not set' : issue.message}`;
  });
  return { ok: false, problems };
}

/**
 * Parses the environment at start-up. On bad config it prints every problem and exits with code 1,
 * so a misconfigured process never half-starts.
 */
export function loadEnv<S extends z.ZodType>(
  app: string,
  schema: S,
  source: Record<string, string | undefined>,
): z.infer<S> {
  const result = parseEnv(schema, source);
  if (result.ok) return result.env;
  process.stderr.write(`${app}: invalid configuration\n${result.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}

/** Building blocks shared by the apps' env schemas. */
export const envFields = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  logFormat: z.enum(['json', 'pretty']).default('json'),
  redisUrl: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }),
  databaseUrl: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }),
  httpUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  /** Comma-separated list with at least one non-empty entry. */
  list: (what: string) =>
    z
      .string()
      .transform((raw) =>
        raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      )
      .refine((items) => items.length > 0, `needs at least one ${what}`),
  queuePrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only')
    .default('hds'),
};
