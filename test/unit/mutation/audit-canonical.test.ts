/**
 * Canonical JSON and audit record hashes pinned to fixed values, computed by hand from the canonical
 * text (sorted keys, no spaces, `,` between items, undefined members dropped): a change to the
 * canonical form would silently change every stored hash, so it must fail here first.
 */

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { actorOf, auditId, buildRecord, canonicalJson, hashRecord } from '#core/audit/audit.ts';
import type { PlatformPrincipal, TenantPrincipal } from '#core/principal.ts';

describe('canonicalJson', () => {
  it.each([
    ['null', null, 'null'],
    ['undefined at the top', undefined, 'null'],
    ['a string', 'a"b', '"a\\"b"'],
    ['a number', 12, '12'],
    ['false', false, 'false'],
    ['an empty array', [], '[]'],
    ['an empty object', {}, '{}'],
    ['an array of two', [1, 2], '[1,2]'],
    ['an array of one', [12], '[12]'],
    ['nested arrays', [[1], [2, [3]]], '[[1],[2,[3]]]'],
    ['sorted keys at every depth', { b: 1, a: { d: [true], c: null } }, '{"a":{"c":null,"d":[true]},"b":1}'],
    ['undefined members dropped', { a: undefined, b: 2 }, '{"b":2}'],
    ['keys escaped', { 'x"y': 1 }, '{"x\\"y":1}'],
    ['uppercase before lowercase (code unit order)', { b: 1, B: 2, a: 3 }, '{"B":2,"a":3,"b":1}'],
  ])('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('gives equal values with different key order one text', () => {
    expect(canonicalJson({ x: 1, y: [{ q: 1, p: 2 }] })).toBe(canonicalJson({ y: [{ p: 2, q: 1 }], x: 1 }));
  });
});

describe('audit record hashes', () => {
  /** sha256 of text written by hand, so the expectation does not lean on canonicalJson itself. */
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const record = (after: unknown) => ({
    tenantId: 'tn',
    id: '01',
    at: 't',
    actor: { id: 's', type: 'system' as const },
    action: 'a',
    resourceType: 'x',
    resourceId: 'i',
    after,
    sourceIp: 'ip',
    userAgent: 'ua',
    requestId: 'r',
  });
  const text = (after: string) =>
    `{"action":"a","actor":{"id":"s","type":"system"},"after":${after},"at":"t","id":"01","requestId":"r","resourceId":"i","resourceType":"x","sourceIp":"ip","tenantId":"tn","userAgent":"ua"}`;

  it('hashes records whose after image is [1,2] or [12] apart, each to the sha256 of its canonical text', () => {
    expect(hashRecord(record([1, 2]))).toBe(sha256(text('[1,2]')));
    expect(hashRecord(record([12]))).toBe(sha256(text('[12]')));
    expect(hashRecord(record([1, 2]))).not.toBe(hashRecord(record([12])));
  });

  it('builds a record with redacted secrets, a time-ordered id, and the hash of the rest', () => {
    // Act
    const built = buildRecord(
      {
        tenantId: 'tabcdefghijklmnop',
        actor: { id: 'u-1', type: 'user' },
        meta: {
          requestId: 'req-1',
          sourceIp: '203.0.113.7',
          userAgent: 'curl/8',
          now: '2026-11-29T00:00:00.000Z',
        },
        draft: {
          action: 'role.create',
          resourceType: 'role',
          resourceId: 'ops',
          after: { name: 'ops', token: 's3cr3t' },
        },
      },
      new Uint8Array(10),
    );
    // Assess
    const { hash, ...rest } = built;
    expect(rest).toEqual({
      tenantId: 'tabcdefghijklmnop',
      id: auditId(Date.parse('2026-11-29T00:00:00.000Z'), new Uint8Array(10)),
      at: '2026-11-29T00:00:00.000Z',
      actor: { id: 'u-1', type: 'user' },
      action: 'role.create',
      resourceType: 'role',
      resourceId: 'ops',
      after: { name: 'ops', token: '***' },
      sourceIp: '203.0.113.7',
      userAgent: 'curl/8',
      requestId: 'req-1',
    });
    expect(Object.hasOwn(built, 'before')).toBe(false);
    expect(hash).toBe(hashRecord(rest));
    expect(hash).not.toBe(hashRecord({ ...rest, after: { name: 'ops', token: 's3cr3t' } }));
  });

  it('names the actor of a platform operator and of a tenant principal', () => {
    const platform: PlatformPrincipal = { kind: 'platform', principalId: 'op-1' };
    const key: TenantPrincipal = {
      kind: 'tenant',
      tenantId: 'tn',
      principalId: 'k-1',
      principalType: 'apikey',
      roles: [],
      permissions: new Set(),
    };
    expect(actorOf(platform)).toEqual({
      id: 'op-1',
      type: 'platform',
    });
    expect(actorOf(key)).toEqual({
      id: 'k-1',
      type: 'apikey',
    });
  });
});
