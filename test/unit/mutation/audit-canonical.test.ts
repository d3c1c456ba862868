/**
 * Canonical JSON and audit record hashes pinned to fixed values, computed by hand from the canonical
 * text (sorted keys, no spaces, `,` between items, undefined members dropped): a change to the
 * canonical form would silently change every stored hash, so it must fail here first.
 */
import { describe, expect, it } from 'vitest';
import { actorOf, canonicalJson, GENESIS_HASH, hashRecord, nextRecord } from '#core/audit/audit.ts';
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
  const unhashed = {
    tenantId: 'tabcdefghijklmnop',
    seq: 1,
    at: '2026-11-29T00:00:00.000Z',
    actor: { id: 'u-1', type: 'user' as const },
    action: 'role.create',
    resourceType: 'role',
    resourceId: 'ops',
    after: { name: 'ops', token: '***' },
    sourceIp: '203.0.113.7',
    userAgent: 'curl/8',
    requestId: 'req-1',
    prevHash: GENESIS_HASH,
  };

  it('hashes records whose after image is [1,2] or [12] apart, to fixed sha256 values', () => {
    // Expected: sha256 of the hand-written canonical record text with "after":[1,2] or "after":[12].
    const record = (after: number[]) => ({
      tenantId: 'tn',
      seq: 2,
      at: 't',
      actor: { id: 's', type: 'system' as const },
      action: 'a',
      resourceType: 'x',
      resourceId: 'i',
      after,
      sourceIp: 'ip',
      userAgent: 'ua',
      requestId: 'r',
      prevHash: 'p',
    });
    expect(hashRecord(record([1, 2]))).toBe(
      'ecd7239c3c62ac892ce5a3b4e16c25f1fdd1f5941b0c16039292c1f494fec0f2',
    );
    expect(hashRecord(record([12]))).toBe('9732f60896f177049b2583bda61fb13c7e252a2c14825c5db4e766f734495f7e');
  });

  it('hashes a record to a fixed value', () => {
    expect(hashRecord(unhashed)).toBe('559ca50500b8a66f2c71fc17289ad42e5b75b5fe7df6203a1131bdbb5bd0ca2b');
  });

  it('builds the first record after genesis with redacted secrets and that same hash', () => {
    // Act
    const record = nextRecord(
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
      { seq: 0, hash: GENESIS_HASH },
    );
    // Assess
    expect(record).toEqual({
      ...unhashed,
      hash: '559ca50500b8a66f2c71fc17289ad42e5b75b5fe7df6203a1131bdbb5bd0ca2b',
    });
    expect(Object.hasOwn(record, 'before')).toBe(false);
  });

  it('keeps a before image, redacted, and changes the hash with it', () => {
    // Act
    const record = nextRecord(
      {
        tenantId: 'tabcdefghijklmnop',
        actor: { id: 'k-1', type: 'apikey' },
        meta: { requestId: 'r', sourceIp: 'i', userAgent: 'a', now: 'n' },
        draft: { action: 'a', resourceType: 't', resourceId: 'id', before: { password: 'p', n: 1 } },
      },
      { seq: 4, hash: 'f'.repeat(64) },
    );
    // Assess
    expect(record.seq).toBe(5);
    expect(record.prevHash).toBe('f'.repeat(64));
    expect(record.before).toEqual({ password: '***', n: 1 });
    expect(Object.hasOwn(record, 'after')).toBe(false);
    const { hash, ...rest } = record;
    expect(hash).toBe(hashRecord(rest));
    expect(hash).not.toBe(hashRecord({ ...rest, before: { password: '***', n: 2 } }));
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
