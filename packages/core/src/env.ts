import { z } from 'zod';
import { isPlaceholder, secretWeakness } from './secrets/strength.js';

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
  /** `LOCAL_DEVELOPMENT=true`: accepts the weak, well-known local secrets of `npm start`, the demo, docker compose. */
  localDevelopment: z.stringbool().default(false),
};

/**
 * The secrets an app's env holds: `lists` are comma-separated keys (parsed to arrays), the first of which is in use
 * and the others kept only to verify during a rotation; `tokens` are single secrets.
 */
export interface SecretFields {
  lists?: readonly string[];
  tokens?: readonly string[];
}

const valuesOf = (raw: unknown): string[] =>
  Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : typeof raw === 'string' ? [raw] : [];

const ordinal = (index: number, count: number) => (count === 1 ? '' : `key ${index + 1} of ${count} `);

/**
 * The secret rules (see `secretWeakness`), as a check on an app's env object. Placeholders are refused everywhere.
 * Weak values are refused in the secrets in use (each token, each list's first key) unless `LOCAL_DEVELOPMENT` is
 * true; a list's older keys may be weak (the apps warn), so a deployment can move off a weak key by rotation.
 * Runs even when other variables are wrong, so every problem is listed at once.
 */
export function strongSecrets(fields: SecretFields) {
  return z.superRefine<Record<string, unknown>>(
    (env, ctx) => {
      const local = env.LOCAL_DEVELOPMENT === true;
      const check = (name: string, values: string[], inUse: (index: number) => boolean) => {
        values.forEach((value, index) => {
          const weakness = secretWeakness(value);
          if (weakness === undefined) return;
          if (!isPlaceholder(value) && (local || !inUse(index))) return;
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message:
              `${ordinal(index, values.length)}${weakness}: use 32 random bytes, ` +
              'e.g. `openssl rand -base64 32` (LOCAL_DEVELOPMENT=true accepts weak values for local use)',
          });
        });
      };
      for (const name of fields.lists ?? []) check(name, valuesOf(env[name]), (index) => index === 0);
      for (const name of fields.tokens ?? []) check(name, valuesOf(env[name]), () => true);
    },
    { when: () => true },
  );
}

/** What an app should warn about at start-up: weak secrets it accepted, and why. Never quotes a secret. */
export function secretWarnings(options: { env: Record<string, unknown>; fields: SecretFields }): string[] {
  const { env, fields } = options;
  const warnings: string[] = [];
  const weakInUse: string[] = [];
  for (const name of fields.lists ?? []) {
    const values = valuesOf(env[name]);
    values.forEach((value, index) => {
      if (secretWeakness(value) === undefined) return;
      if (index === 0) weakInUse.push(name);
      else
        warnings.push(
          `${name}: ${ordinal(index, values.length)}is weak; it only verifies old webhooks: remove it once ` +
            'every link has moved to the first key (see README, rotating WEBHOOK_SIGNING_KEYS)',
        );
    });
  }
  for (const name of fields.tokens ?? []) {
    if (valuesOf(env[name]).some((value) => secretWeakness(value) !== undefined)) weakInUse.push(name);
  }
  if (env.LOCAL_DEVELOPMENT === true) {
    warnings.unshift(
      weakInUse.length > 0
        ? `LOCAL_DEVELOPMENT=true: weak local secrets accepted (${weakInUse.join(', ')}); never expose this instance`
        : 'LOCAL_DEVELOPMENT=true: weak secrets would be accepted; unset it outside local development',
    );
  }
  return warnings;
}
