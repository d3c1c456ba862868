import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { type AuditRecord, buildRecord } from '#core/audit/audit.ts';
import { type Digest, type DigestSigner, makeDigest } from '#core/audit/digest.ts';
import { type AuditTrailDeps, auditPublicKey, listAuditTrail, verifyAuditTrail } from '#core/audit/trail.ts';

const T = 'tabcdefghijklmnop';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signer: DigestSigner = {
  keyId: 'test-key',
  sign: async (m) => sign('sha256', m, { key: privateKey, dsaEncoding: 'der' }),
  publicKeyPem: async () => PEM,
};

function record(minute: number): AuditRecord {
  return buildRecord({
    tenantId: T,
    actor: { id: 'u1', type: 'user' },
    meta: {
      requestId: `r${minute}`,
      sourceIp: '10.0.0.1',
      userAgent: 'ua',
      now: `2026-11-29T10:${String(minute).padStart(2, '0')}:00.000Z`,
    },
    draft: { action: 'role.create', resourceType: 'role', resourceId: `role${minute}` },
  });
}

/** Two records, one digest over them made at 10:05; the table may have lost the first record. */
async function fixture(tableRetentionMs: number, kept: (records: AuditRecord[]) => AuditRecord[]) {
  const records = [record(0), record(1)];
  const digest = await makeDigest(
    { tenantId: T, previous: undefined, records, objects: ['k0'], at: '2026-11-29T10:05:00.000Z' },
    signer,
  );
  const digests = vi.fn(async (): Promise<Digest[]> => [digest]);
  const readAuditRecords = vi.fn(async () => kept(records));
  const deps: AuditTrailDeps = {
    records: { listAudit: vi.fn(), readAuditRecords },
    digests,
    signer: async () => signer,
    tableRetentionMs,
  };
  return { deps, digests, readAuditRecords, records };
}

describe('listAuditTrail', () => {
  it('passes only the filters given, with times as UTC ISO 8601', async () => {
    // Prepare
    const listAudit = vi.fn(async () => ({ items: [] }));
    const deps = { records: { listAudit, readAuditRecords: vi.fn() } };
    // Act
    await listAuditTrail(
      deps,
      T,
      { action: 'workflow.create', from: '2026-11-01T01:00:00+01:00', to: '2026-11-02T00:00:00-02:00' },
      { limit: 5 },
    );
    // Assess
    expect(listAudit).toHaveBeenCalledWith(
      T,
      { action: 'workflow.create', from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T02:00:00.000Z' },
      { limit: 5 },
    );
  });

  it('leaves out the filters not given, times included', async () => {
    // Prepare
    const listAudit = vi.fn(async (_t: string, _f: Record<string, unknown>) => ({ items: [] }));
    const deps = { records: { listAudit, readAuditRecords: vi.fn() } };
    // Act
    await listAuditTrail(deps, T, { action: 'workflow.create', actor: undefined }, { limit: 5 });
    // Assess: no key at all for what was not asked (an undefined filter would still be a key)
    expect(Object.keys(listAudit.mock.calls[0]?.[1] ?? {})).toEqual(['action']);
  });
});

describe('verifyAuditTrail', () => {
  it('checks the tenant’s records against its digests and the signing key', async () => {
    // Prepare
    const f = await fixture(86_400_000, (records) => records);
    // Act
    const verdict = await verifyAuditTrail(f.deps, T, new Date('2026-11-29T12:00:00.000Z'));
    // Assess
    expect(verdict).toEqual({ ok: true, digests: 1, digested: 2, undigested: 0 });
    expect(f.readAuditRecords).toHaveBeenCalledWith(T);
    expect(f.digests).toHaveBeenCalledWith(T);
  });

  it('names a digested record missing from the table, unless the table’s retention let it expire', async () => {
    // Prepare
    const young = await fixture(86_400_000, (records) => records.slice(1));
    const expired = await fixture(60_000, (records) => records.slice(1));
    const now = new Date('2026-11-29T12:00:00.000Z');
    // Act
    const deleted = await verifyAuditTrail(young.deps, T, now);
    const aged = await verifyAuditTrail(expired.deps, T, now);
    // Assess
    expect(deleted.ok).toBe(false);
    expect(deleted.firstDivergence).toMatchObject({ kind: 'record-deleted', recordId: young.records[0]?.id });
    expect(aged.ok).toBe(true);
  });
});

describe('auditPublicKey', () => {
  it('names the key, its algorithm and its PEM', async () => {
    // Act
    const key = await auditPublicKey({ signer: async () => signer });
    // Assess
    expect(key).toEqual({ keyId: 'test-key', algorithm: 'ECDSA_P256_SHA256', publicKeyPem: PEM });
  });
});
