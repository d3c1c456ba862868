import { describe, expect, it } from 'vitest';
import { forbiddenAddressClass } from '#core/net/address-guard.ts';

// Every IPv6 form that embeds an IPv4 address is judged by that address.
describe('forbiddenAddressClass: IPv4 embedded in IPv6', () => {
  it.each([
    // SIIT IPv4-translated, ::ffff:0:0/96
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['::ffff:0:7f00:1', 'loopback'],
    ['::ffff:0:169.254.169.254', 'link-local'],
    ['::ffff:0:10.1.2.3', 'private'],
    // mapped and compatible, hex and dotted
    ['::ffff:10.0.0.1', 'private'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local'],
    ['::127.0.0.1', 'loopback'],
    // NAT64 well-known and local-use
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b:1::10.0.0.5', 'private'],
    ['64:ff9b:1::8.8.8.8', 'local-use NAT64'],
    ['64:ff9b:1:abcd::808:808', 'local-use NAT64'],
    ['64:ff9b:0:1::1', 'broadcast or reserved'],
    // 6to4
    ['2002:7f00:1::', 'loopback'],
    ['2002:0a00:0005::1', 'private'],
    // Teredo: the client address is stored inverted (7f.0.0.1 -> 80ff:fffe)
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'],
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'link-local'],
    ['2001:0:0a00:0001:8000:63bf:f7f7:f7f7', 'private'],
    // ISATAP interface identifiers
    ['2607:f8b0::5efe:10.0.0.1', 'private'],
    ['fe80::200:5efe:169.254.169.254', 'link-local'],
    // documentation and discard
    ['2001:db8::1', 'documentation'],
    ['100::1', 'broadcast or reserved'],
    ['192.0.2.10', 'documentation'],
  ])('%s is %s', (address, kind) => {
    expect(forbiddenAddressClass(address)).toBe(kind);
  });

  it.each([
    '::ffff:0:8.8.8.8',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:0808:0808::1',
    '2001:0:4136:e378:8000:63bf:f7f7:f7f7',
    '2607:f8b0::5efe:8.8.8.8',
    '2606:4700:4700::1111',
  ])('%s embeds or is a public address and is allowed', (address) => {
    expect(forbiddenAddressClass(address)).toBeUndefined();
  });
});
