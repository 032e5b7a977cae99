import { envFields, loadEnv } from '@hds/core';
import { z } from 'zod';

export const SimEnv = z.object({
  PORT: envFields.port(5000),
  LOG_LEVEL: envFields.logLevel,
  LOG_FORMAT: envFields.logFormat,
});
export type SimEnv = z.infer<typeof SimEnv>;

export const loadSimEnv = (source: Record<string, string | undefined> = process.env): SimEnv =>
  loadEnv('heroku-sim', SimEnv, source);
