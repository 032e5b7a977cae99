import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/**
 * Which outbound targets an operator allows beyond public https hosts.
 * - `allowPrivate`: any address and plain http (local development, tests, `npm start`).
 * - `allowedHosts`: host names (exact, case-insensitive) or CIDRs whose targets may be private and plain http,
 *   e.g. `hasura,10.0.0.0/8` for a Hasura in the same cluster.
 */
export interface OutboundPolicy {
  readonly allowPrivate: boolean;
  readonly allowedNames: ReadonlySet<string>;
  readonly allowedNetworks: BlockList;
  /** The entries as given, for logs and errors. */
  readonly allowedHosts: readonly string[];
}

export const OutboundPolicyInput = z.object({
  allowPrivate: z.boolean().default(false),
  allowedHosts: z.array(z.string().trim().min(1)).default([]),
});
export type OutboundPolicyInput = z.input<typeof OutboundPolicyInput>;

/** Parses `{allowPrivate, allowedHosts}`; throws on a malformed CIDR. */
export function parseOutboundPolicy(input: OutboundPolicyInput): OutboundPolicy {
  const { allowPrivate, allowedHosts } = OutboundPolicyInput.parse(input);
  const allowedNames = new Set<string>();
  const allowedNetworks = new BlockList();
  for (const entry of allowedHosts) {
    const [network, bits, extra] = entry.split('/');
    const family = isIP(network!);
    if (family === 0) {
      if (bits !== undefined) throw new Error(`allowed host "${entry}" is neither a host name nor a CIDR`);
      allowedNames.add(entry.toLowerCase().replace(/\.$/, ''));
      continue;
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      allowedNetworks.addAddress(network!, type);
      continue;
    }
    const prefix = Number(bits);
    if (extra !== undefined || !/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
      throw new Error(`allowed host "${entry}" is not a valid CIDR`);
    }
    allowedNetworks.addSubnet(network!, prefix, type);
  }
  return { allowPrivate, allowedNames, allowedNetworks, allowedHosts };
}

/** Splits `DESTINATIONS_ALLOWED_HOSTS`-style text (comma-separated) into entries. */
export function splitAllowedHosts(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

export function isAllowedName(policy: OutboundPolicy, hostname: string): boolean {
  return policy.allowedNames.has(hostname.toLowerCase().replace(/\.$/, ''));
}

export function isAllowedAddress(policy: OutboundPolicy, address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return policy.allowedNetworks.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
