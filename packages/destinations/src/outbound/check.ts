import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { bareAddress, classifyAddress, metadataHostNames } from './address.js';
import { isAllowedAddress, isAllowedName, type OutboundPolicy } from './policy.js';

/** Resolves a host name to all its addresses (the shape of `dns.promises.lookup(name, {all: true})`). */
export type LookupAll = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemLookup: LookupAll = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** `unresolved`: the name has no address now (a later attempt may find one), as opposed to a refused target. */
export type OutboundCheck =
  { ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string; unresolved?: true };

/**
 * Decides whether a request may go to `url` now: the scheme must be https (or http where the policy allows),
 * and every address the name resolves to must be public (or allowed). Returns the address to connect to.
 * Call it at every attempt; `createGuardedDispatcher` calls it at connect time, so the checked address is the
 * one connected to.
 */
export async function checkOutboundUrl({
  url,
  policy,
  lookup = systemLookup,
}: {
  url: string | URL;
  policy: OutboundPolicy;
  lookup?: LookupAll;
}): Promise<OutboundCheck> {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { ok: false, reason: `scheme ${parsed.protocol} is not allowed` };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'URLs with credentials are not allowed' };
  }
  return checkOutboundHost({ hostname: parsed.hostname, https: parsed.protocol === 'https:', policy, lookup });
}

/** The host half of `checkOutboundUrl`, for a connect-time check where only host and scheme are known. */
export async function checkOutboundHost({
  hostname,
  https,
  policy,
  lookup = systemLookup,
}: {
  hostname: string;
  https: boolean;
  policy: OutboundPolicy;
  lookup?: LookupAll;
}): Promise<OutboundCheck> {
  const host = bareAddress(hostname).toLowerCase().replace(/\.$/, '');
  if (host === '') return { ok: false, reason: 'no host' };
  const nameAllowed = isIP(host) === 0 && isAllowedName(policy, host);
  if (!nameAllowed && metadataHostNames.has(host)) {
    return { ok: false, reason: `${host} is a cloud metadata service` };
  }
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await lookup(host);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'lookup failed';
      return { ok: false, reason: `${host} does not resolve (${code})`, unresolved: true };
    }
  }
  if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve`, unresolved: true };
  for (const { address } of addresses) {
    const kind = classifyAddress(address);
    if (kind === null) continue;
    const allowed = nameAllowed || isAllowedAddress(policy, bareAddress(address));
    if (allowed) continue;
    // Metadata addresses are never reached just because private targets are allowed.
    if (kind === 'metadata' || !policy.allowPrivate) {
      return { ok: false, reason: `${host} resolves to ${address}, a ${kind} address` };
    }
  }
  const first = addresses[0]!;
  const plainHttpAllowed =
    nameAllowed ||
    policy.allowPrivate ||
    addresses.every(({ address }) => isAllowedAddress(policy, bareAddress(address)));
  if (!https && !plainHttpAllowed) {
    return { ok: false, reason: 'https is required' };
  }
  return { ok: true, address: first.address, family: first.family === 6 ? 6 : 4 };
}
