import { createHash, createPublicKey, verify } from 'node:crypto';
import { type AuditRecord, byId, canonicalJson, recordIntact } from './audit.ts';

/** One record a digest covers: its id and its hash when it was digested. */
export interface DigestEntry {
  readonly id: string;
  readonly hash: string;
}

/**
 * A signed digest of a tenant's audit records (CloudTrail-style): the hashes of the records that
 * reached the archive since the previous digest, the previous digest's hash, and an ECDSA P-256
 * signature over all of it. Digests form a chain per tenant, numbered from 1.
 */
export interface Digest {
  readonly tenantId: string;
  readonly seq: number;
  /** When the digest was made; the records it covers committed before. */
  readonly at: string;
  readonly records: readonly DigestEntry[];
  /** Archive object keys (JSONL) that hold the records. */
  readonly objects: readonly string[];
  readonly previousHash: string;
  /** Which key signed: a KMS key ARN, or `local:<fingerprint>`. */
  readonly keyId: string;
  /** Base64 DER ECDSA P-256 signature (SHA-256) over the canonical JSON of everything else. */
  readonly signature: string;
}

/** The hash that precedes a tenant's first digest. */
export const GENESIS_DIGEST_HASH = '0'.repeat(64);

/** Signs digests; the public key verifies them offline. */
export interface DigestSigner {
  readonly keyId: string;
  /** DER ECDSA P-256 signature over the SHA-256 of `message`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** SPKI PEM of the public key. */
  publicKeyPem(): Promise<string>;
}

/** The bytes a digest's signature covers. */
export function signedBytes(digest: Omit<Digest, 'signature'>): Uint8Array {
  const { signature: _s, ...rest } = digest as Digest;
  return new TextEncoder().encode(canonicalJson(rest));
}

/** sha256 of the whole signed digest: what the next digest names as its previous. */
export function digestHash(digest: Digest): string {
  return createHash('sha256').update(canonicalJson(digest)).digest('hex');
}

/** Makes and signs the next digest of a tenant over `records` (sorted by id). */
export async function makeDigest(
  input: {
    readonly tenantId: string;
    readonly previous: Digest | undefined;
    readonly records: readonly AuditRecord[];
    readonly objects: readonly string[];
    readonly at: string;
  },
  signer: DigestSigner,
): Promise<Digest> {
  const unsigned: Omit<Digest, 'signature'> = {
    tenantId: input.tenantId,
    seq: (input.previous?.seq ?? 0) + 1,
    at: input.at,
    records: [...input.records].sort(byId).map((r) => ({ id: r.id, hash: r.hash })),
    objects: [...input.objects],
    previousHash: input.previous ? digestHash(input.previous) : GENESIS_DIGEST_HASH,
    keyId: signer.keyId,
  };
  const signature = await signer.sign(signedBytes(unsigned));
  return { ...unsigned, signature: Buffer.from(signature).toString('base64') };
}

/** Whether the digest's signature is the public key's over its content. */
export function signatureValid(digest: Digest, publicKeyPem: string): boolean {
  try {
    return verify(
      'sha256',
      signedBytes(digest),
      { key: createPublicKey(publicKeyPem), dsaEncoding: 'der' },
      Buffer.from(digest.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

/** What went wrong first. */
export type DivergenceKind =
  | 'digest-missing'
  | 'digest-out-of-chain'
  | 'bad-signature'
  | 'record-deleted'
  | 'record-altered'
  | 'record-inserted';

export interface Divergence {
  readonly kind: DivergenceKind;
  readonly digestSeq?: number;
  readonly recordId?: string;
  readonly message: string;
}

/** The verdict of {@link verifyTrail}. */
export interface TrailVerdict {
  readonly ok: boolean;
  /** Digests checked (signature and chain). */
  readonly digests: number;
  /** Records the digests cover. */
  readonly digested: number;
  /** Records in the table not in a digest yet (the consumer has not reached them). */
  readonly undigested: number;
  readonly firstDivergence?: Divergence;
}

/** Options of {@link verifyTrail}. */
export interface TrailOptions {
  /**
   * A digested record may be gone from the table once its digest is older than this (the table's
   * TTL); younger, its absence is a deletion. Absent: records never expire.
   */
  readonly tableRetentionMs?: number;
  /** How far a record's time may precede the previous digest and still be honest (commit and stream lag). */
  readonly lagToleranceMs?: number;
  readonly now: Date;
  /**
   * True when `records` is the whole archive rather than the table: every digested record must be
   * there whatever its age.
   */
  readonly complete?: boolean;
}

const DEFAULT_LAG_MS = 5 * 60_000;

/**
 * Checks a tenant's digests against the public key and each other, then the records against the
 * digests, and names the first divergence:
 * - a digest missing (a gap in the numbering) or out of chain (its previous hash is not the
 *   previous digest's), or a bad signature;
 * - a digested record deleted (gone before the table may expire it), altered (its hash or content
 *   differs from what was digested), or inserted after its time was digested (backdated: not in the
 *   digest made after it, or in a later one).
 * Records in no digest yet, and not backdated, are counted as undigested.
 */
export function verifyTrail(
  digests: readonly Digest[],
  records: readonly AuditRecord[],
  publicKeyPem: string,
  options: TrailOptions,
): TrailVerdict {
  const ordered = [...digests].sort((a, b) => a.seq - b.seq);
  const stored = new Map(records.map((r) => [r.id, r]));
  const lag = options.lagToleranceMs ?? DEFAULT_LAG_MS;
  const seen = new Set<string>();
  let digested = 0;
  const verdict = (firstDivergence: Divergence | undefined, checked: number): TrailVerdict => ({
    ok: firstDivergence === undefined,
    digests: checked,
    digested,
    undigested: records.filter((r) => !seen.has(r.id)).length,
    ...(firstDivergence ? { firstDivergence } : {}),
  });
  let previous: Digest | undefined;
  for (const [index, digest] of ordered.entries()) {
    const expected = index + 1;
    if (digest.seq !== expected) {
      return verdict(
        { kind: 'digest-missing', digestSeq: expected, message: `Digest ${expected} is missing.` },
        index,
      );
    }
    if (!signatureValid(digest, publicKeyPem)) {
      return verdict(
        {
          kind: 'bad-signature',
          digestSeq: digest.seq,
          message: `Digest ${digest.seq} has a bad signature.`,
        },
        index,
      );
    }
    const previousHash = previous ? digestHash(previous) : GENESIS_DIGEST_HASH;
    if (digest.previousHash !== previousHash) {
      return verdict(
        {
          kind: 'digest-out-of-chain',
          digestSeq: digest.seq,
          message: `Digest ${digest.seq} does not follow digest ${digest.seq - 1}.`,
        },
        index,
      );
    }
    const expires =
      !options.complete &&
      options.tableRetentionMs !== undefined &&
      Date.parse(digest.at) + options.tableRetentionMs <= options.now.getTime();
    const floor = previous ? Date.parse(previous.at) - lag : Number.NEGATIVE_INFINITY;
    for (const entry of [...digest.records].sort(byId)) {
      seen.add(entry.id);
      digested++;
      const record = stored.get(entry.id);
      const at = { kind: 'record-deleted' as const, digestSeq: digest.seq, recordId: entry.id };
      if (!record) {
        if (expires) continue;
        return verdict(
          { ...at, message: `Record ${entry.id} was deleted after digest ${digest.seq}.` },
          expected,
        );
      }
      if (record.hash !== entry.hash || !recordIntact(record)) {
        return verdict(
          {
            ...at,
            kind: 'record-altered',
            message: `Record ${entry.id} was altered after digest ${digest.seq}.`,
          },
          expected,
        );
      }
      if (Date.parse(record.at) < floor) {
        return verdict(
          {
            ...at,
            kind: 'record-inserted',
            message: `Record ${entry.id} claims a time digest ${digest.seq - 1} had already covered.`,
          },
          expected,
        );
      }
    }
    previous = digest;
  }
  const last = previous;
  if (last) {
    const covered = Date.parse(last.at) - lag;
    const backdated = [...records].sort(byId).find((r) => !seen.has(r.id) && Date.parse(r.at) < covered);
    if (backdated) {
      return verdict(
        {
          kind: 'record-inserted',
          digestSeq: last.seq,
          recordId: backdated.id,
          message: `Record ${backdated.id} claims a time digest ${last.seq} had already covered, but no digest holds it.`,
        },
        ordered.length,
      );
    }
  }
  // Not digested yet: each record must still match its own hash.
  const altered = [...records].sort(byId).find((r) => !seen.has(r.id) && !recordIntact(r));
  if (altered) {
    return verdict(
      {
        kind: 'record-altered',
        recordId: altered.id,
        message: `Record ${altered.id} (not digested yet) does not match its own hash.`,
      },
      ordered.length,
    );
  }
  return verdict(undefined, ordered.length);
}
