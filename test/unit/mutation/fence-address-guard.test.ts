/**
 * The address guard's parsing edges: malformed dotted quads inside IPv6, too many groups, several
 * `::`, one-sided brackets, and public IPv6 addresses whose low groups only look like embedded or
 * loopback forms.
 */
import { describe, expect, it } from 'vitest';
import { forbiddenAddressClass, parseV6 } from '#core/net/address-guard.ts';

describe('parseV6', () => {
  it.each([
    ['a dotted tail of three parts', '::ffff:1.2.3'],
    ['a dotted tail with a letter after the digits', '::ffff:1.2.3.4x'],
    ['a dotted tail with a letter before the digits', '::ffff:1.2.3.x4'],
    ['a dotted tail part above 255', '::ffff:1.2.3.256'],
    ['two ::', '1::2::3'],
    ['eight groups around ::', '1:2:3:4:5:6:7::8'],
    ['seven groups without ::', '1:2:3:4:5:6:7'],
    ['a five-digit group', '12345::1'],
  ])('refuses %s', (_name, text) => {
    expect(parseV6(text)).toBeUndefined();
  });

  it('fills :: with as many zero groups as are missing', () => {
    expect(parseV6('1:2:3:4:5:6::7')).toEqual([1, 2, 3, 4, 5, 6, 0, 7]);
    expect(parseV6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseV6('fe80::1%eth0')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('reads a dotted tail as the last two groups', () => {
    expect(parseV6('::ffff:10.1.2.3')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203]);
    expect(parseV6('1:2:3:4:5:6:10.1.2.3')).toEqual([1, 2, 3, 4, 5, 6, 0x0a01, 0x0203]);
  });
});

describe('forbiddenAddressClass', () => {
  it.each([
    ['a public address ending in ::1', '2606:4700::1'],
    ['a public address ending in two zero groups', '2606:4700::'],
    ['a public address with 0x64 first but not the NAT64 prefix', '64::a00:1'],
    ['a public address with ff9b second but not 64 first', '1:ff9b::a00:1'],
    ['a public address 64:1::/32', '64:1::a00:1'],
    ['a public IPv4 address', '8.8.8.8'],
  ])('allows %s', (_name, address) => {
    expect(forbiddenAddressClass(address)).toBeUndefined();
  });

  it.each([
    ['a bracketed IPv6 loopback', '[::1]', 'loopback'],
    ['the unspecified IPv6 address', '::', 'unspecified'],
    ['a closing bracket only', 'x10.0.0.1]', 'not an IP address'],
    ['an opening bracket only', '[10.0.0.1x', 'not an IP address'],
    ['brackets around an IPv4 address', '[10.0.0.1]', 'private'],
    ['a host name', 'example.com', 'not an IP address'],
  ])('classifies %s', (_name, address, expected) => {
    expect(forbiddenAddressClass(address)).toBe(expected);
  });
});
