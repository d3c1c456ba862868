import { describe, expect, it, vi } from 'vitest';
import { listAuditTrail } from '#core/audit/trail.ts';

const T = 'tabcdefghijklmnop';

describe('listAuditTrail', () => {
  it('passes only the filters given, with times as UTC ISO 8601', async () => {
    // Prepare
    const listAudit = vi.fn(async () => ({ items: [] }));
    const deps = { records: { listAudit, readAuditRecords: vi.fn() } };
    // Act
    await listAuditTrail(
      deps,
      T,
      { action: 'workflow.create', from: '2026-11-01T01:00:00+01:00' },
      { limit: 5 },
    );
    // Assess
    expect(listAudit).toHaveBeenCalledWith(
      T,
      { action: 'workflow.create', from: '2026-11-01T00:00:00.000Z' },
      { limit: 5 },
    );
  });
});
