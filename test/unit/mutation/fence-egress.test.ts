/**
 * The egress allowlist's rules (functions/core/net/egress.ts) at their boundaries: list length,
 * prefix lengths per family, what may stand before a prefix, host-name shapes, CIDR bases, and
 * address families kept apart.
 */
import { describe, expect, it } from 'vitest';
import { EgressAllowlist, egressProblems, MAX_EGRESS_ENTRIES, parseEgressEntry } from '#core/net/egress.ts';

describe('egressProblems', () => {
  it(`accepts ${MAX_EGRESS_ENTRIES} entries and refuses one more`, () => {
    const list = Array.from({ length: MAX_EGRESS_ENTRIES }, (_, i) => `h${i}.example`);
    expect(egressProblems(list)).toEqual([]);
    expect(egressProblems([...list, 'one.more.example'])).toEqual([
      { path: 'allow', message: `at most ${MAX_EGRESS_ENTRIES} entries` },
    ]);
  });
});

describe('parseEgressEntry', () => {
  it.each([
    ['10.0.0.0/8', { kind: 'cidr', family: 4, base: 0x0a000000n, bits: 8 }],
    ['10.20.5.5/16', { kind: 'cidr', family: 4, base: 0x0a140000n, bits: 16 }],
    ['10.0.0.1/32', { kind: 'cidr', family: 4, base: 0x0a000001n, bits: 32 }],
    ['192.168.1.7', { kind: 'cidr', family: 4, base: 0xc0a80107n, bits: 32 }],
    ['fd00::/32', { kind: 'cidr', family: 6, base: 0xfd00n << 112n, bits: 32 }],
    ['[fd00::1]/128', { kind: 'cidr', family: 6, base: (0xfd00n << 112n) + 1n, bits: 128 }],
    ['::1', { kind: 'cidr', family: 6, base: 1n, bits: 128 }],
    [' Models.Corp.Example ', { kind: 'host', name: 'models.corp.example', subdomains: false }],
    ['*.svc.example', { kind: 'host', name: 'svc.example', subdomains: true }],
    ['a-b.example', { kind: 'host', name: 'a-b.example', subdomains: false }],
    ['localhost', { kind: 'host', name: 'localhost', subdomains: false }],
    [`${'a'.repeat(63)}.example`, { kind: 'host', name: `${'a'.repeat(63)}.example`, subdomains: false }],
  ])('parses %s', (text, expected) => {
    expect(parseEgressEntry(text)).toEqual(expected);
  });

  it.each([
    ['10.0.0.0/7', 'prefix too wide: list the private ranges you mean'],
    ['fd00::/31', 'prefix too wide: list the private ranges you mean'],
    ['::1/129', 'prefix length must be 0 to 128'],
    ['10.0.0.0/+16', 'prefix length must be 0 to 32'],
    ['10.0.0.0/1e1', 'prefix length must be 0 to 32'],
    ['10.0.0.0/0016', 'prefix length must be 0 to 32'],
    ['10.0.0.0/', 'prefix length must be 0 to 32'],
    ['host.example/16', 'not a valid IP address before the prefix length'],
    ['[fd00::1', 'not a host name, IP address or CIDR block'],
    ['fd00::1]', 'not a host name, IP address or CIDR block'],
    ['-a.example', 'not a host name, IP address or CIDR block'],
    ['a-.example', 'not a host name, IP address or CIDR block'],
    ['a..example', 'not a host name, IP address or CIDR block'],
    [`${'a'.repeat(64)}.example`, 'not a host name, IP address or CIDR block'],
    [`${'a.'.repeat(127)}ab`, 'not a host name, IP address or CIDR block'],
    ['*.example', 'a wildcard needs at least two labels, e.g. *.corp.example'],
    ['a.*.example', 'not a host name, IP address or CIDR block'],
  ])('refuses %s', (text, reason) => {
    expect(parseEgressEntry(text)).toBe(reason);
  });

  it('accepts a name of 253 characters', () => {
    const name = `${'a.'.repeat(126)}a`;
    expect(name).toHaveLength(253);
    expect(parseEgressEntry(name)).toEqual({ kind: 'host', name, subdomains: false });
  });
});

describe('EgressAllowlist', () => {
  it('keeps the parsable entries, and is not empty then', () => {
    const list = new EgressAllowlist(['bad host', '10.0.0.0/8', 'models.example']);
    expect(list.empty).toBe(false);
    expect(list.allowsAddress('10.9.9.9')).toBe(true);
    expect(list.allowsHost('models.example')).toBe(true);
    expect(new EgressAllowlist(['bad host']).empty).toBe(true);
    expect(new EgressAllowlist().empty).toBe(true);
  });

  it('keeps IPv4 and IPv6 apart, even where their numbers agree', () => {
    const v4 = new EgressAllowlist(['10.0.0.0/8']);
    const v6 = new EgressAllowlist(['::/96']);
    expect(v4.allowsAddress('::a00:1')).toBe(false);
    expect(v6.allowsAddress('10.0.0.1')).toBe(false);
    expect(v6.allowsAddress('::a00:1')).toBe(true);
  });

  it('drops a zone id and brackets from an address, and refuses what is no address', () => {
    const list = new EgressAllowlist(['fe80::/64']);
    expect(list.allowsAddress('fe80::1%eth0')).toBe(true);
    expect(list.allowsAddress('[fe80::2]')).toBe(true);
    expect(list.allowsAddress('fe81::1')).toBe(false);
    expect(list.allowsAddress('not-an-address')).toBe(false);
  });

  it('matches an exact host only exactly, and a wildcard only below its name', () => {
    const list = new EgressAllowlist(['models.example', '*.svc.example']);
    expect(list.allowsHost('a.models.example')).toBe(false);
    expect(list.allowsHost('models.example.')).toBe(true);
    expect(list.allowsHost('x.y.svc.example')).toBe(true);
    expect(list.allowsHost('svc.example')).toBe(false);
    expect(list.allowsHost('xsvc.example')).toBe(false);
  });

  it('does not take a host entry for an address, nor an address entry for a host', () => {
    const list = new EgressAllowlist(['10.0.0.1', 'internal.example']);
    expect(list.allowsHost('10.0.0.1')).toBe(true);
    expect(list.allowsHost('[10.0.0.1]')).toBe(true);
    expect(list.allowsHost('10.0.0.2')).toBe(false);
    expect(list.allowsAddress('internal.example')).toBe(false);
  });
});
