import { isIP } from 'node:net';

/**
 * The SSRF guard's address check: whether an IP address is one an HTTP tool or a model provider
 * must not reach unless a platform admin allowlists it for the tenant. Parsed numerically (no string
 * prefixes), with IPv4 embedded in IPv6 checked as the IPv4 address it reaches.
 */

/** Why an address is refused. */
export type AddressClass =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared (CGNAT)'
  | 'multicast'
  | 'broadcast or reserved'
  | 'benchmarking'
  | 'IETF protocol assignment'
  | 'site-local'
  | 'documentation'
  | 'local-use NAT64'
  | 'not an IP address';

// [first octets as a 32-bit number, prefix length, class]
const V4_BLOCKS: readonly [number, number, AddressClass][] = [
  [ipv4(0, 0, 0, 0), 8, 'unspecified'],
  [ipv4(10, 0, 0, 0), 8, 'private'],
  [ipv4(100, 64, 0, 0), 10, 'shared (CGNAT)'],
  [ipv4(127, 0, 0, 0), 8, 'loopback'],
  [ipv4(169, 254, 0, 0), 16, 'link-local'],
  [ipv4(172, 16, 0, 0), 12, 'private'],
  [ipv4(192, 0, 0, 0), 24, 'IETF protocol assignment'],
  [ipv4(192, 0, 2, 0), 24, 'documentation'],
  [ipv4(192, 168, 0, 0), 16, 'private'],
  [ipv4(198, 18, 0, 0), 15, 'benchmarking'],
  [ipv4(198, 51, 100, 0), 24, 'documentation'],
  [ipv4(203, 0, 113, 0), 24, 'documentation'],
  [ipv4(224, 0, 0, 0), 4, 'multicast'],
  [ipv4(240, 0, 0, 0), 4, 'broadcast or reserved'],
];

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

function classifyV4(value: number): AddressClass | undefined {
  for (const [base, bits, kind] of V4_BLOCKS) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === base) return kind;
  }
  return undefined;
}

function parseV4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let out = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out = out * 256 + n;
  }
  return out;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined if it does not parse. */
export function parseV6(text: string): number[] | undefined {
  let address = text.split('%')[0] ?? '';
  const groups: number[] = [];
  // A trailing dotted IPv4 (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = address.lastIndexOf(':');
  const tail = address.slice(lastColon + 1);
  let embedded: number[] = [];
  if (tail.includes('.')) {
    const v4 = parseV4(tail);
    if (v4 === undefined) return undefined;
    embedded = [v4 >>> 16, v4 & 0xffff];
    // Keep the groups before it: "::ffff:" becomes "::ffff", "::" stays "::".
    address = address.slice(0, lastColon + 1);
    if (!address.endsWith('::')) address = address.slice(0, -1);
  }
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined): number[] | undefined => {
    if (part === undefined || part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      out.push(Number.parseInt(group, 16));
    }
    return out;
  };
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  if (!head || !rest) return undefined;
  const known = head.length + rest.length + embedded.length;
  if (halves.length === 2) {
    if (known > 7) return undefined;
    groups.push(...head, ...new Array<number>(8 - known).fill(0), ...rest, ...embedded);
  } else {
    if (known !== 8) return undefined;
    groups.push(...head, ...embedded);
  }
  return groups;
}

function classifyV6(groups: readonly number[]): AddressClass | undefined {
  const g = (i: number) => groups[i] ?? 0;
  const embeddedV4 = (hi: number, lo: number) => ((g(hi) << 16) >>> 0) + g(lo);
  const zeros = (from: number, to: number) => groups.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return 'unspecified';
  if (zeros(0, 7) && g(7) === 1) return 'loopback';
  // Every form below embeds an IPv4 address that the packet ends up reaching (or that a relay or
  // translator on the path reaches), so it is judged as that IPv4 address.
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (deprecated compatible), ::ffff:0:a.b.c.d (SIIT translated).
  if (zeros(0, 5) && (g(5) === 0xffff || g(5) === 0)) return classifyV4(embeddedV4(6, 7));
  if (zeros(0, 4) && g(4) === 0xffff && g(5) === 0) return classifyV4(embeddedV4(6, 7));
  // 64:ff9b::/96 (well-known NAT64) translates to the embedded IPv4 address; the rest of
  // 64:ff9b::/32 is unassigned.
  if (g(0) === 0x64 && g(1) === 0xff9b) {
    if (g(2) === 1) {
      // 64:ff9b:1::/48 (local-use NAT64, RFC 8215) reaches a translator inside someone's network:
      // refused even for a public embedded address, and named by it when that one is not public.
      return classifyV4(embeddedV4(6, 7)) ?? 'local-use NAT64';
    }
    return zeros(2, 6) ? classifyV4(embeddedV4(6, 7)) : 'broadcast or reserved';
  }
  // 2002::/16 (6to4) tunnels to the IPv4 address in groups 1 and 2.
  if (g(0) === 0x2002) return classifyV4(embeddedV4(1, 2));
  // 2001::/32 (Teredo): server in groups 2-3, client (the destination) inverted in groups 6-7.
  if (g(0) === 0x2001 && g(1) === 0) {
    return classifyV4((~embeddedV4(6, 7) >>> 0) >>> 0) ?? classifyV4(embeddedV4(2, 3));
  }
  // ISATAP interface identifiers (…:0:5efe:a.b.c.d, …:200:5efe:a.b.c.d) carry the tunnel's IPv4 end.
  if ((g(4) === 0 || g(4) === 0x200) && g(5) === 0x5efe) {
    const v4 = classifyV4(embeddedV4(6, 7));
    if (v4) return v4;
  }
  if (g(0) === 0x2001 && g(1) === 0xdb8) return 'documentation';
  // 100::/64 is the discard prefix.
  if (g(0) === 0x100 && zeros(1, 4)) return 'broadcast or reserved';
  if ((g(0) & 0xfe00) === 0xfc00) return 'private';
  if ((g(0) & 0xffc0) === 0xfe80) return 'link-local';
  if ((g(0) & 0xffc0) === 0xfec0) return 'site-local';
  if ((g(0) & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}

/**
 * Why `address` must not be reached unless allowlisted for the tenant, or undefined when it is a
 * public unicast address. Refused: unspecified (0.0.0.0/8, ::), loopback (127/8, ::1), private
 * (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 incl. the metadata address
 * 169.254.169.254, fe80::/10), CGNAT (100.64/10), multicast and broadcast/reserved (224/4, 240/4,
 * ff00::/8), 192.0.0/24, 198.18/15, documentation ranges, fec0::/10, 100::/64, and any of these
 * embedded in IPv6 (mapped, compatible, translated, NAT64, 6to4, Teredo, ISATAP); local-use NAT64
 * (64:ff9b:1::/48) always.
 */
export function forbiddenAddressClass(address: string): AddressClass | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare.split('%')[0] ?? '');
  if (family === 4) {
    const v4 = parseV4(bare);
    return v4 === undefined ? 'not an IP address' : classifyV4(v4);
  }
  if (family === 6) {
    const groups = parseV6(bare);
    return groups ? classifyV6(groups) : 'not an IP address';
  }
  return 'not an IP address';
}
