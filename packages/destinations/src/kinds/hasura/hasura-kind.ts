import { setTimeout as delay } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { checkOutboundUrl, type LookupAll } from '../../outbound/check.js';
import type { OutboundPolicy } from '../../outbound/policy.js';
import { DestinationConfigError, type DestinationKind } from '../kind.js';
import { HasuraMetadataApi } from './metadata-api.js';
import { checkSource, rotateSource, type RotationLimits } from './rotate-source.js';

const hasuraConfig = z.object({ url: z.string(), source: z.string() });
const hasuraSecrets = z.object({ adminSecret: z.string() });
const hasuraCreateInput = z.object({
  /** Hasura's base URL: the service calls `${url}/v1/metadata`. */
  url: z.string().min(1).max(2048),
  adminSecret: z.string().min(1).max(1024),
  source: z.string().min(1).max(256).default('default'),
});

export type HasuraConfig = z.infer<typeof hasuraConfig>;
export type HasuraSecrets = z.infer<typeof hasuraSecrets>;
export type HasuraCreateInput = z.infer<typeof hasuraCreateInput>;

/** Hasura's base URL as stored: http(s), no credentials, query or fragment, no trailing slash. */
function baseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DestinationConfigError('url must be an absolute http(s) URL (Hasura’s base URL)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new DestinationConfigError('url must be http(s)');
  if (url.username !== '' || url.password !== '') {
    throw new DestinationConfigError('url must not hold credentials: give the admin secret as adminSecret');
  }
  if (url.search !== '' || url.hash !== '') throw new DestinationConfigError('url must not have a query or fragment');
  return url.href.replace(/\/+$/, '');
}

/**
 * The `hasura` destination: keeps one source of a running Hasura on the newest database URL through the metadata
 * API (`rotateSource`), never restarting it. `dispatcher` is the outbound-address guard's.
 */
export function createHasuraKind(options: {
  dispatcher: Dispatcher;
  /** With a policy, a URL the outbound-address guard refuses is refused at creation too (each attempt checks again). */
  policy?: OutboundPolicy;
  lookup?: LookupAll;
  /** Per metadata call; `pg_update_source` waits while Hasura connects (default 60 s). */
  timeoutMs?: number;
  limits?: RotationLimits;
}): DestinationKind<HasuraConfig, HasuraSecrets, HasuraCreateInput> {
  return {
    name: 'hasura',
    createInput: hasuraCreateInput,
    config: hasuraConfig,
    secrets: hasuraSecrets,
    prepare: async ({ input }) => {
      const url = baseUrl(input.url);
      if (options.policy) {
        const check = await checkOutboundUrl({
          url,
          policy: options.policy,
          ...(options.lookup ? { lookup: options.lookup } : {}),
        });
        // A name without an address yet is accepted (each attempt checks again); a refused target is not.
        if (!check.ok && !check.unresolved) throw new DestinationConfigError(`url refused: ${check.reason}`);
      }
      return { config: { url, source: input.source }, secrets: { adminSecret: input.adminSecret } };
    },
    async deliver({ config, secrets, delivery, signal }) {
      const started = performance.now();
      const api = new HasuraMetadataApi({
        url: config.url,
        adminSecret: secrets.adminSecret,
        dispatcher: options.dispatcher,
        timeoutMs: options.timeoutMs,
        signal,
      });
      const latency = () => Math.round(performance.now() - started);
      if (delivery.test) return { ...(await checkSource({ api, source: config.source })), latencyMs: latency() };
      if (!URL.canParse(delivery.value)) {
        return { outcome: 'gave_up', error: `${delivery.varName} is not a database URL`, latencyMs: latency() };
      }
      try {
        const result = await rotateSource({
          api,
          source: config.source,
          url: delivery.value,
          limits: options.limits,
          sleep: (ms) => delay(ms, undefined, { signal }),
        });
        return { ...result, latencyMs: latency() };
      } catch (err) {
        if (signal.aborted) return { outcome: 'retry', error: 'the attempt was stopped', latencyMs: latency() };
        throw err;
      }
    },
  };
}
