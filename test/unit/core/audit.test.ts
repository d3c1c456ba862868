import { describe, expect, it } from 'vitest';
import {
  type AuditContext,
  type AuditRecord,
  canonicalJson,
  GENESIS_HASH,
  nextRecord,
  verifyChain,
} from '../../../functions/core/audit/audit.ts';

function chain(n: number): { records: AuditRecord[]; head: { seq: number; hash: string } } {
  const records: AuditRecord[] = [];
  let head = { seq: 0, hash: GENESIS_HASH };
  for (let i = 0; i < n; i++) {
    const ctx: AuditContext = {
      tenantId: 'tabcdefghijklmnop',
      actor: { id: 'u1', type: 'user' },
      meta: { requestId: `r${i}`, sourceIp: '10.0.0.1', userAgent: 'ua', now: `2026-11-22T00:00:0${i}.000Z` },
      draft: {
        action: 'secret.update',
        resourceType: 'secret',
        resourceId: `s${i}`,
        after: { value: 'hunter2', n: i },
      },
    };
    const record = nextRecord(ctx, head);
    records.push(record);
    head = { seq: record.seq, hash: record.hash };
  }
  return { records, head };
}

describe('audit hash chain', () => {
  it('verifies an intact chain', () => {
    // Prepare
    const { records, head } = chain(5);
    // Act
    const verdict = verifyChain(records, head);
    // Assess
    expect(verdict).toEqual({ ok: true, checked: 5, headSeq: 5 });
  });

  it('redacts secret-looking fields from before/after', () => {
    // Act
    const { records } = chain(1);
    // Assess
    expect(JSON.stringify(records[0])).not.toContain('hunter2');
  });

  it.each([
    [
      'a modified record',
      (r: AuditRecord[]) => {
        r[2] = { ...(r[2] as AuditRecord), action: 'user.delete' };
      },
      3,
      'content does not match its hash',
    ],
    ['a deleted record', (r: AuditRecord[]) => void r.splice(1, 1), 2, 'missing record'],
    [
      'reordered records',
      (r: AuditRecord[]) => {
        const [a, b] = [r[1] as AuditRecord, r[2] as AuditRecord];
        r[1] = { ...b, seq: 2 };
        r[2] = { ...a, seq: 3 };
      },
      2,
      'content does not match its hash',
    ],
    ['a truncated tail', (r: AuditRecord[]) => void r.pop(), 5, 'missing record'],
  ])('finds %s', (_name, tamper, seq, reason) => {
    // Prepare
    const { records, head } = chain(5);
    // Act
    tamper(records);
    const verdict = verifyChain(records, head);
    // Assess
    expect(verdict.ok).toBe(false);
    expect(verdict.firstBroken).toEqual({ seq, reason });
  });

  it('finds a re-hashed rewrite of the newest record through the head', () => {
    // Prepare
    const { records, head } = chain(3);
    const last = records[2] as AuditRecord;
    const forged = nextRecord(
      {
        tenantId: last.tenantId,
        actor: last.actor,
        meta: { requestId: 'x', sourceIp: 'x', userAgent: 'x', now: last.at },
        draft: { action: 'forged', resourceType: 'x', resourceId: 'x' },
      },
      { seq: 2, hash: (records[1] as AuditRecord).hash },
    );
    records[2] = forged;
    // Act
    const verdict = verifyChain(records, head);
    // Assess
    expect(verdict.firstBroken).toEqual({ seq: 3, reason: 'does not match the chain head' });
  });

  it('hashes canonically whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }),
    );
  });
});
