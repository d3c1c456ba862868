import type { Page, PageRequest } from '../tenancy/model.ts';
import type { AuditFilter, TenancyStore } from '../tenancy/ports.ts';
import type { AuditRecord } from './audit.ts';
import { type Digest, type DigestSigner, type TrailVerdict, verifyTrail } from './digest.ts';

/** What reading and checking a tenant's audit trail needs. */
export interface AuditTrailDeps {
  /** The records in the table. */
  readonly records: Pick<TenancyStore, 'listAudit' | 'readAuditRecords'>;
  /** The tenant's signed digests in the archive (read with the tenant's own credentials). */
  readonly digests: (tenantId: string) => Promise<readonly Digest[]>;
  readonly signer: () => Promise<Pick<DigestSigner, 'keyId' | 'publicKeyPem'>>;
  /** How long the table keeps a digested record (its TTL). */
  readonly tableRetentionMs: number;
}

/** The audit trail, newest first; times in the filter are compared as UTC ISO 8601. */
export async function listAuditTrail(
  deps: Pick<AuditTrailDeps, 'records'>,
  tenantId: string,
  filter: AuditFilter,
  page: PageRequest,
): Promise<Page<AuditRecord>> {
  const iso = (t?: string) => (t ? new Date(t).toISOString() : undefined);
  const clean = Object.fromEntries(
    Object.entries({ ...filter, from: iso(filter.from), to: iso(filter.to) }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  return deps.records.listAudit(tenantId, clean, page);
}

/**
 * Checks the tenant's records against the signed digests, the digests against their signatures and
 * each other; the verdict names the first divergence.
 */
export async function verifyAuditTrail(
  deps: AuditTrailDeps,
  tenantId: string,
  now: Date,
): Promise<TrailVerdict> {
  const [records, digests, publicKey] = await Promise.all([
    deps.records.readAuditRecords(tenantId),
    deps.digests(tenantId),
    deps.signer().then((s) => s.publicKeyPem()),
  ]);
  return verifyTrail(digests, records, publicKey, { now, tableRetentionMs: deps.tableRetentionMs });
}

/** The public key that verifies the digests, for checks outside the platform. */
export async function auditPublicKey(deps: Pick<AuditTrailDeps, 'signer'>) {
  const signer = await deps.signer();
  return {
    keyId: signer.keyId,
    algorithm: 'ECDSA_P256_SHA256' as const,
    publicKeyPem: await signer.publicKeyPem(),
  };
}
