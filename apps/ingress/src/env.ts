import { envFields, loadEnv } from '@hds/core';
import { z } from 'zod';

export const IngressEnv = z.object({
  REDIS_URL: envFields.redisUrl,
  WEBHOOK_SIGNING_KEYS: envFields.list('signing key'),
  PORT: envFields.port(3000),
  LOG_LEVEL: envFields.logLevel,
  LOG_FORMAT: envFields.logFormat,
  QUEUE_PREFIX: envFields.queuePrefix,
});
export type IngressEnv = z.infer<typeof IngressEnv>;

export const loadIngressEnv = (source: Record<string, string | undefined> = process.env): IngressEnv =>
  loadEnv('ingress', IngressEnv, source);
