import { BlockList, isIP, isIPv4 } from 'node:net';

/** Why an address may not be the target of an outbound request, or `null` when it is public. */
export type AddressClass = 'loopback' | 'private' | 'link-local' | 'unspecified' | 'metadata' | 'reserved';

const metadataV4 = ['169.254.169.254', '169.254.170.2', '100.100.100.200'];
const metadataV6 = ['fd00:ec2::254'];

/** Host names that only ever mean a cloud metadata service. */
export const metadataHostNames = new Set(['metadata.google.internal', 'metadata.goog', 'metadata']);

const classes: Array<[AddressClass, BlockList]> = [];
function addClass(name: AddressClass, v4: string[], v6: string[]): void {
  const list = new BlockList();
  for (const cidr of v4) addCidr(list, cidr, 'ipv4');
  for (const cidr of v6) addCidr(list, cidr, 'ipv6');
  classes.push([name, list]);
}
function addCidr(list: BlockList, cidr: string, type: 'ipv4' | 'ipv6'): void {
  const [network, bits] = cidr.split('/');
  if (bits === undefined) list.addAddress(network!, type);
  else list.addSubnet(network!, Number(bits), type);
}

// Order matters only for the reason reported: metadata before link-local, which contains it.
addClass('metadata', metadataV4, metadataV6);
addClass('unspecified', ['0.0.0.0/8'], ['::/128']);
addClass('loopback', ['127.0.0.0/8'], ['::1/128']);
addClass('link-local', ['169.254.0.0/16'], ['fe80::/10']);
addClass('private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'], ['fc00::/7', 'fec0::/10']);
addClass(
  'reserved',
  ['192.0.0.0/24', '192.0.2.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4'],
  ['ff00::/8', '2001:db8::/32', '100::/64'],
);

/** Expands an IPv6 address (no brackets, no zone) into its eight 16-bit groups, or `null`. */
function ipv6Groups(address: string): number[] | null {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (isIPv4(maybeV4)) {
    const [a, b, c, d] = maybeV4.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const known = head.length + rest.length;
  const fill = halves.length === 2 ? 8 - known : 0;
  const groups = [...head, ...new Array<number>(Math.max(fill, 0)).fill(0), ...rest];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one: IPv4-mapped (`::ffff:a.b.c.d`),
 * IPv4-compatible (`::a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`).
 */
export function embeddedIPv4(address: string): string | null {
  const groups = ipv6Groups(address);
  if (!groups) return null;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  const v4 = (): string => `${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
  const zeroHead = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0;
  if (zeroHead && g4 === 0 && g5 === 0xffff) return v4();
  if (zeroHead && g4 === 0xffff && g5 === 0) return v4();
  if (zeroHead && g4 === 0 && g5 === 0 && (g6 !== 0 || g7 > 1)) return v4();
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4();
  return null;
}

/** Strips URL brackets and an IPv6 zone id. */
export function bareAddress(host: string): string {
  const unbracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const zone = unbracketed.indexOf('%');
  return zone === -1 ? unbracketed : unbracketed.slice(0, zone);
}

/** Classifies an IP literal: `null` for a public address, otherwise why it is not. */
export function classifyAddress(address: string): AddressClass | null {
  const bare = bareAddress(address);
  const family = isIP(bare);
  if (family === 0) return 'reserved';
  if (family === 6) {
    const v4 = embeddedIPv4(bare);
    if (v4 !== null) return classifyAddress(v4);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [name, list] of classes) if (list.check(bare, type)) return name;
  return null;
}
