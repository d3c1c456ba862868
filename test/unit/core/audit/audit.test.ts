import { describe, expect, it } from 'vitest';
import {
  type AuditContext,
  type AuditRecord,
  actorOf,
  auditId,
  buildRecord,
  canonicalJson,
  hashRecord,
  recordIntact,
  verifyRecords,
} from '#core/audit/audit.ts';

const bytes = (fill: number): Uint8Array => new Uint8Array(10).fill(fill);

function context(i: number, extra: Partial<AuditContext['draft']> = {}): AuditContext {
  return {
    tenantId: 'tabcdefghijklmnop',
    actor: { id: 'u1', type: 'user' },
    meta: { requestId: `r${i}`, sourceIp: '10.0.0.1', userAgent: 'ua', now: `2026-11-22T00:00:0${i}.000Z` },
    draft: {
      action: 'secret.update',
      resourceType: 'secret',
      resourceId: `s${i}`,
      after: { value: 'hunter2', n: i },
      ...extra,
    },
  };
}

const records = (n: number): AuditRecord[] => Array.from({ length: n }, (_, i) => buildRecord(context(i)));

describe('audit record ids', () => {
  it('encodes time then randomness as a 26-character ULID', () => {
    // Act
    const zero = auditId(0, bytes(0));
    const max = auditId(2 ** 48 - 1, bytes(255));
    const known = auditId(1_469_918_176_385, bytes(0));
    // Assess
    expect(zero).toBe('0'.repeat(26));
    expect(max).toBe(`7${'Z'.repeat(25)}`);
    expect(known.slice(0, 10)).toBe('01ARYZ6S41');
  });

  it('sorts by time as strings, and differs by randomness within one millisecond', () => {
    // Act
    const earlier = auditId(1_000, bytes(255));
    const later = auditId(1_001, bytes(0));
    const a = auditId(5_000, bytes(1));
    const b = auditId(5_000, bytes(2));
    const fresh = [auditId(5_000), auditId(5_000)];
    // Assess
    expect(earlier < later).toBe(true);
    expect(a).not.toBe(b);
    expect(a.slice(0, 10)).toBe(b.slice(0, 10));
    expect(a < b).toBe(true);
    expect(fresh[0]).not.toBe(fresh[1]);
    expect(fresh[0]).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it.each([
    [-1, 10],
    [1.5, 10],
    [Number.NaN, 10],
    [2 ** 53, 10],
    [1, 9],
    [1, 11],
  ])('refuses time %s with %s random bytes', (ms, length) => {
    expect(() => auditId(ms, new Uint8Array(length))).toThrow(RangeError);
  });
});

describe('audit records', () => {
  it('carries the mutation, the actor and the request, under an id taken from its time', () => {
    // Act
    const record = buildRecord(context(3, { before: { name: 'a' }, after: { name: 'b' } }), bytes(7));
    // Assess
    expect(record).toEqual({
      tenantId: 'tabcdefghijklmnop',
      id: auditId(Date.parse('2026-11-22T00:00:03.000Z'), bytes(7)),
      at: '2026-11-22T00:00:03.000Z',
      actor: { id: 'u1', type: 'user' },
      action: 'secret.update',
      resourceType: 'secret',
      resourceId: 's3',
      before: { name: 'a' },
      after: { name: 'b' },
      sourceIp: '10.0.0.1',
      userAgent: 'ua',
      requestId: 'r3',
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const { hash, ...rest } = record;
    expect(hash).toBe(hashRecord(rest));
  });

  it('leaves out an absent before or after', () => {
    // Act
    const record = buildRecord(context(1, { after: undefined }));
    // Assess
    expect(Object.keys(record)).not.toContain('before');
    expect(Object.keys(record)).not.toContain('after');
  });

  it('redacts secret-looking fields from before/after', () => {
    // Act
    const [record] = records(1);
    // Assess
    expect(JSON.stringify(record)).not.toContain('hunter2');
    expect(record?.after).toMatchObject({ n: 0 });
  });

  it('names the actor of a tenant principal and of a platform admin by their opaque ids', () => {
    expect(
      actorOf({ kind: 'tenant', principalId: 'k1', principalType: 'apikey' } as Parameters<
        typeof actorOf
      >[0]),
    ).toEqual({ id: 'k1', type: 'apikey' });
    expect(actorOf({ kind: 'platform', principalId: 'p1' } as Parameters<typeof actorOf>[0])).toEqual({
      id: 'p1',
      type: 'platform',
    });
  });

  it('hashes canonically whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }),
    );
    expect(canonicalJson({ b: 1, a: 2, c: undefined })).toBe('{"a":2,"b":1}');
    expect(canonicalJson(['x', null, true])).toBe('["x",null,true]');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson({ a: 'x"y' })).toBe('{"a":"x\\"y"}');
  });
});

describe('verifyRecords', () => {
  it('is ok on intact records, in any order', () => {
    // Prepare
    const list = records(5).reverse();
    // Act
    const verdict = verifyRecords(list);
    // Assess
    expect(verdict).toEqual({ ok: true, checked: 5 });
    expect(verifyRecords([])).toEqual({ ok: true, checked: 0 });
  });

  it.each([
    ['its action', { action: 'user.delete' }],
    ['its actor', { actor: { id: 'u2', type: 'user' as const } }],
    ['its time', { at: '2026-11-22T00:00:09.000Z' }],
  ])('names the first record whose %s was altered', (_name, change) => {
    // Prepare
    const list = records(5);
    const second = list[1] as AuditRecord;
    list[1] = { ...second, ...change };
    list[3] = { ...(list[3] as AuditRecord), resourceId: 'later' };
    // Act
    const verdict = verifyRecords(list);
    // Assess
    expect(verdict).toEqual({
      ok: false,
      checked: 1,
      firstBroken: { id: second.id, reason: 'content does not match its hash' },
    });
    expect(recordIntact(second)).toBe(true);
    expect(recordIntact(list[1] as AuditRecord)).toBe(false);
  });
});
