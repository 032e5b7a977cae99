import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { bareAddress } from './address.js';
import { checkOutboundHost, systemLookup, type LookupAll } from './check.js';
import type { OutboundPolicy } from './policy.js';

/** A connection refused by the outbound-address guard; `reason` says why. */
export class OutboundRefusedError extends Error {
  readonly code = 'OUTBOUND_REFUSED';
  constructor(readonly reason: string) {
    super(`outbound request refused: ${reason}`);
    this.name = 'OutboundRefusedError';
  }
}

/**
 * An undici dispatcher whose every new connection is checked by the outbound-address guard: the host is
 * resolved once, the answer checked, and the socket opened to that very address (TLS still verifies the
 * name). A DNS answer that changes between a check and the connection cannot slip through.
 */
export function createGuardedDispatcher({
  policy,
  lookup = systemLookup,
  connectTimeoutMs = 10_000,
  tls,
}: {
  policy: OutboundPolicy;
  lookup?: LookupAll;
  connectTimeoutMs?: number;
  /** Extra TLS options, e.g. `{ca}` for a test server's certificate. */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
}): Agent {
  const connectDirect = buildConnector({ timeout: connectTimeoutMs, ...tls });
  return new Agent({
    connect(options, callback) {
      const https = options.protocol === 'https:';
      checkOutboundHost({ hostname: options.hostname, https, policy, lookup }).then(
        (result) => {
          if (!result.ok) {
            callback(new OutboundRefusedError(result.reason), null);
            return;
          }
          const name = bareAddress(options.hostname);
          connectDirect(
            {
              ...options,
              hostname: result.address,
              servername: options.servername ?? (isIP(name) === 0 ? name : undefined),
            },
            callback,
          );
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), null),
      );
    },
  });
}
