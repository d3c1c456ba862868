import { describe, expect, it } from 'vitest';
import { toolUrlProblems } from '../../../functions/core/catalog/model.ts';

describe('toolUrlProblems: addresses refused at save', () => {
  it.each([
    'https://[::7f00:1]/x', // IPv4-compatible IPv6 of 127.0.0.1
    'https://[64:ff9b::a9fe:a9fe]/x', // NAT64 of the metadata address
    'https://[::ffff:10.0.0.1]/x',
    'https://169.254.169.254/latest',
    'https://10.1.2.3/',
    'https://localhost/',
  ])('refuses %s without allowPrivateNetwork', (url) => {
    // Act
    const problems = toolUrlProblems(url, false);
    // Assess
    expect(problems.map((p) => p.path)).toContain('url');
  });

  it('accepts a public https address, and a private one when allowed', () => {
    expect(toolUrlProblems('https://93.184.215.14/x', false)).toEqual([]);
    expect(toolUrlProblems('https://10.1.2.3/', true)).toEqual([]);
  });
});
