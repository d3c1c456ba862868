/**
 * The address guard's classes (functions/core/net/address-guard.ts), named exactly: the IPv4
 * documentation blocks, public IPv6 addresses whose low 32 bits spell a private IPv4 address (they
 * are not an IPv4 form), and ISATAP identifiers only with their two interface-id prefixes.
 */
import { describe, expect, it } from 'vitest';
import { forbiddenAddressClass } from '#core/net/address-guard.ts';

describe('forbiddenAddressClass', () => {
  it.each([
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['198.51.101.7', undefined],
    ['203.0.114.9', undefined],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::2', 'unspecified'],
    ['2606:4700::1111', undefined],
    ['2606:4700::a00:1', undefined],
    ['::1:0:a00:1', undefined],
    ['::ffff:0:a00:1', 'private'],
    ['fd00::1', 'private'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2606:db8::1', undefined],
    ['2001:4860:4860::8888', undefined],
    ['2606:4700:1:2:0:5efe:a00:1', 'private'],
    ['2606:4700:1:2:200:5efe:a00:1', 'private'],
    ['2606:4700:1:2:300:5efe:a00:1', undefined],
    ['2606:4700:1:2:0:5efe:808:808', undefined],
    ['fd00::5efe:808:808', 'private'],
  ])('%s is %s', (address, expected) => {
    expect(forbiddenAddressClass(address)).toBe(expected);
  });
});
