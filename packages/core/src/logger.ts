import { pino, type Logger, type LoggerOptions } from 'pino';
import { scrubSecrets } from './secrets/redact.js';

export type { Logger } from 'pino';

/**
 * Keys whose values are censored wherever they appear in a logged object (down to the depth `scrubDeep` walks).
 * Credentials travel under these names throughout the code base; anything else that might hold one is scrubbed by
 * `scrubSecrets` in the message, in strings and in the error serializers.
 */
export const secretLogKeys = [
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'secret',
  'value',
  'databaseUrl',
  'authorization',
  'cookie',
] as const;

/**
 * Paths pino itself censors, a second line behind `secretLogKeys`: top-level keys and the headers of logged
 * requests and responses. No wildcard paths: pino's wildcard redaction costs more than the rest of a log line.
 */
export const redactedLogPaths = [
  ...secretLogKeys,
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["heroku-webhook-hmac-sha256"]',
  'headers.authorization',
  'headers.cookie',
  'headers["heroku-webhook-hmac-sha256"]',
  'res.headers["set-cookie"]',
];

const CENSOR = '[redacted]';
const secretKeySet: ReadonlySet<string> = new Set(secretLogKeys);

export interface CreateLoggerOptions {
  app: string;
  level?: string;
  format?: 'json' | 'pretty';
  /** Where lines go; tests pass a stream to read them back. Defaults to stdout. */
  destination?: NodeJS.WritableStream;
}

function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: scrubSecrets(String(err)) };
  const out: Record<string, unknown> = {
    type: err.name,
    message: scrubSecrets(err.message),
    stack: err.stack === undefined ? undefined : scrubSecrets(err.stack),
  };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (err.cause !== undefined) out.cause = serializeError(err.cause);
  return out;
}

/** Censors `secretLogKeys` and scrubs credentials out of strings, in a copy; Errors go to `serializeError`. */
function scrubDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (depth > 4 || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = secretKeySet.has(key) && item !== undefined && item !== null ? CENSOR : scrubDeep(item, depth + 1);
  }
  return out;
}

/** One pino logger per app: redaction by path, secrets scrubbed from messages and errors. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: { app: options.app },
    redact: { paths: redactedLogPaths, censor: CENSOR },
    serializers: { err: serializeError, error: serializeError },
    formatters: { log: (object) => scrubDeep(object, 0) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  if (options.format === 'pretty' && options.destination === undefined) {
    return pino({
      ...config,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,app', singleLine: true },
      },
    });
  }
  return options.destination ? pino(config, options.destination) : pino(config);
}
