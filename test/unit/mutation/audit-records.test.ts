/**
 * Audit record ids and the per-record check (functions/core/audit/audit.ts): the errors an invalid
 * id request raises, word for word, and `verifyRecords` naming the first broken record in id order
 * whatever order the records come in.
 */
import { describe, expect, it } from 'vitest';
import { type AuditRecord, auditId, buildRecord, verifyRecords } from '#core/audit/audit.ts';

/** A record at second `s` of one minute; ids follow time, so s orders them. */
function record(s: number): AuditRecord {
  const now = `2026-11-29T10:00:${String(s).padStart(2, '0')}.000Z`;
  return buildRecord({
    tenantId: 'tabcdefghijklmnop',
    actor: { id: 'u1', type: 'user' },
    meta: { requestId: `r${s}`, sourceIp: '10.0.0.1', userAgent: 'ua', now },
    draft: { action: 'role.create', resourceType: 'role', resourceId: `role${s}` },
  });
}

const broken = (r: AuditRecord): AuditRecord => ({ ...r, action: 'role.delete' });

describe('auditId errors', () => {
  it('names the time it refuses', () => {
    expect(() => auditId(-1, new Uint8Array(10))).toThrowError(new RangeError('Not a timestamp: -1'));
    expect(() => auditId(1.5, new Uint8Array(10))).toThrowError(new RangeError('Not a timestamp: 1.5'));
  });

  it('says how many random bytes it takes', () => {
    expect(() => auditId(1, new Uint8Array(9))).toThrowError(new RangeError('A ULID takes 10 random bytes'));
  });
});

describe('verifyRecords order', () => {
  const five = [0, 1, 2, 3, 4].map(record);
  const [r0, r1, r2, r3, r4] = five as [AuditRecord, AuditRecord, AuditRecord, AuditRecord, AuditRecord];

  it.each([
    ['reversed', [r4, broken(r3), r2, broken(r1), r0]],
    ['shuffled', [broken(r3), r0, r4, broken(r1), r2]],
    ['descending with the later break first', [broken(r3), broken(r1), r4, r2, r0]],
  ])('names the broken record with the lowest id, after the intact ones before it (%s)', (_name, list) => {
    // Act
    const verdict = verifyRecords(list);
    // Assess: r0 is checked and intact; r1 is the first broken one in id order
    expect(verdict).toEqual({
      ok: false,
      checked: 1,
      firstBroken: { id: r1.id, reason: 'content does not match its hash' },
    });
  });

  it('counts every record before the first break in id order', () => {
    expect(verifyRecords([broken(r4), r2, r0, r3, r1])).toEqual({
      ok: false,
      checked: 4,
      firstBroken: { id: r4.id, reason: 'content does not match its hash' },
    });
  });
});
