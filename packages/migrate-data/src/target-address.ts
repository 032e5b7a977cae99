import { checkOutboundHost, type LookupAll, type OutboundPolicy } from '@hds/destinations';
import { SyncError } from '@hds/sync';

/**
 * The destinations' outbound-address rule, for a migration's target: its host may not resolve to a loopback,
 * private, link-local, unspecified or metadata address unless `DESTINATIONS_ALLOWED_HOSTS` lists it or
 * `DESTINATIONS_ALLOW_PRIVATE` is on. (The rule's https half has no Postgres counterpart: the URL's `sslmode` says
 * how the connection is encrypted.)
 */
export function targetAddressCheck(options: {
  policy: OutboundPolicy;
  lookup?: LookupAll;
}): (url: string) => Promise<void> {
  return async (url) => {
    const { hostname } = new URL(url);
    const checked = await checkOutboundHost({
      hostname,
      https: true,
      policy: options.policy,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    });
    if (!checked.ok) throw new SyncError('invalid', `targetUrl is refused: ${checked.reason}`);
  };
}
