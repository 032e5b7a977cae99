import { envFields, loadEnv, strongSecrets, type SecretFields } from '@hds/core';
import { z } from 'zod';
import { defaultRequestTimeoutMs } from './server.js';

/** The secrets the ingress holds (rules: `strongSecrets`). */
export const ingressSecrets: SecretFields = { lists: ['WEBHOOK_SIGNING_KEYS'] };

export const IngressEnv = z
  .object({
    REDIS_URL: envFields.redisUrl,
    WEBHOOK_SIGNING_KEYS: envFields.list('signing key'),
    PORT: envFields.port(3000),
    LOG_LEVEL: envFields.logLevel,
    LOG_FORMAT: envFields.logFormat,
    QUEUE_PREFIX: envFields.queuePrefix,
    /** A request (headers and body) must arrive within this long; see ingressTimeouts. */
    REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(defaultRequestTimeoutMs),
    LOCAL_DEVELOPMENT: envFields.localDevelopment,
  })
  .check(strongSecrets(ingressSecrets));
export type IngressEnv = z.infer<typeof IngressEnv>;

export const loadIngressEnv = (source: Record<string, string | undefined> = process.env): IngressEnv =>
  loadEnv('ingress', IngressEnv, source);
