/**
 * Archiving batches of audit records (functions/core/audit/archiver.ts) in the orders a stream gives
 * them: an hour's JSONL file named by its first and last id and holding its records in id order,
 * the previous digest written again only when the batch is a retry (also a retry with new records
 * in it), and the digests returned in tenant order whichever tenant finished first.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ArchiverDeps,
  archiveRecords,
  type DigestIndex,
  digestKey,
  recordsKey,
} from '#core/audit/archiver.ts';
import { type AuditRecord, buildRecord } from '#core/audit/audit.ts';
import type { Digest, DigestSigner } from '#core/audit/digest.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signer: DigestSigner = {
  keyId: 'test',
  sign: async (m) => sign('sha256', m, { key: privateKey, dsaEncoding: 'der' }),
  publicKeyPem: async () => PEM,
};
const A = 'taaaaaaaaaaaaaaaa';
const B = 'tbbbbbbbbbbbbbbbb';
const C = 'tcccccccccccccccc';

function record(tenantId: string, at: string): AuditRecord {
  return buildRecord({
    tenantId,
    actor: { id: 'u1', type: 'user' },
    meta: { requestId: `r${at}`, sourceIp: '10.0.0.1', userAgent: 'ua', now: at },
    draft: { action: 'role.create', resourceType: 'role', resourceId: `role${at}` },
  });
}

/** Records of tenant A at 10:0s, s = 0..n-1: ids in that order. */
const inOneHour = (n: number) =>
  Array.from({ length: n }, (_, s) => record(A, `2026-11-29T10:00:${String(s).padStart(2, '0')}.000Z`));

/**
 * An archive that logs every write in order, and an index in memory. `putDigestFails` makes the next
 * digest write throw once (a crash after the index claimed the number); `delay` holds a tenant's
 * `latest` for that many milliseconds.
 */
function fakes(delay: Record<string, number> = {}) {
  const writes: string[] = [];
  const objects = new Map<string, string>();
  const index = new Map<string, Digest[]>();
  let failDigest = false;
  const digestIndex: DigestIndex = {
    latest: async (t) => {
      await new Promise((resolve) => setTimeout(resolve, delay[t] ?? 0));
      return index.get(t)?.at(-1);
    },
    add: async (d) => {
      index.set(d.tenantId, [...(index.get(d.tenantId) ?? []), d]);
    },
    expire: async () => {},
  };
  const deps: ArchiverDeps = {
    archive: {
      putObject: async (key, body) => {
        writes.push(`object ${key}`);
        objects.set(key, body);
      },
      putDigest: async (d) => {
        if (failDigest) {
          failDigest = false;
          throw new Error('putDigest failed');
        }
        writes.push(`digest ${digestKey(d.tenantId, d.seq)}`);
      },
      listDigests: async () => [],
    },
    index: digestIndex,
    signer,
    now: () => new Date('2026-11-29T11:00:00.000Z'),
  };
  return { deps, writes, objects, failNextDigest: () => (failDigest = true) };
}

describe("an hour's records", () => {
  const five = inOneHour(5);
  const [r0, r1, r2, r3, r4] = five as [AuditRecord, AuditRecord, AuditRecord, AuditRecord, AuditRecord];

  it.each([
    ['reversed', [r4, r3, r2, r1, r0]],
    ['shuffled', [r3, r1, r4, r0, r2]],
    ['rotated', [r1, r2, r3, r4, r0]],
  ])('go to one file named by the lowest and highest id, in id order (%s)', async (_name, batch) => {
    // Prepare
    const { deps, objects } = fakes();
    // Act
    const [digest] = await archiveRecords(deps, batch);
    // Assess
    const key = recordsKey(A, '2026-11-29T10', r0.id, r4.id);
    expect([...objects.keys()]).toEqual([key]);
    expect(objects.get(key)).toBe(`${five.map((r) => JSON.stringify(r)).join('\n')}\n`);
    expect(digest?.objects).toEqual([key]);
    expect(digest?.records.map((r) => r.id)).toEqual(five.map((r) => r.id));
  });

  it('of an hour written without its time part go under an empty hour folder', () => {
    expect(recordsKey(A, '2026-11-29', 'X', 'Y')).toBe(`records/tenant=${A}/2026/11/29//X-Y.jsonl`);
  });
});

describe('the previous digest', () => {
  it('is not written again by a batch of new records only', async () => {
    // Prepare
    const { deps, writes } = fakes();
    const [r0, r1] = inOneHour(2) as [AuditRecord, AuditRecord];
    await archiveRecords(deps, [r0]);
    writes.length = 0;
    // Act
    await archiveRecords(deps, [r1]);
    // Assess
    expect(writes).toEqual([
      `object ${recordsKey(A, '2026-11-29T10', r1.id, r1.id)}`,
      `digest ${digestKey(A, 2)}`,
    ]);
  });

  it('is written again first when a retried batch brings records it holds and new ones', async () => {
    // Prepare: the first batch's digest was claimed in the index but never reached the archive
    const { deps, writes, failNextDigest } = fakes();
    const [r0, r1] = inOneHour(2) as [AuditRecord, AuditRecord];
    failNextDigest();
    await expect(archiveRecords(deps, [r0])).rejects.toThrow('putDigest failed');
    writes.length = 0;
    // Act
    const made = await archiveRecords(deps, [r1, r0]);
    // Assess
    expect(writes).toEqual([
      `digest ${digestKey(A, 1)}`,
      `object ${recordsKey(A, '2026-11-29T10', r1.id, r1.id)}`,
      `digest ${digestKey(A, 2)}`,
    ]);
    expect(made.map((d) => [d.seq, d.records.map((r) => r.id)])).toEqual([[2, [r1.id]]]);
  });
});

describe('the digests a batch returns', () => {
  it('come in tenant order whichever tenant was archived first', async () => {
    // Prepare: A's chain is slow to read, so B and C finish before it
    const { deps } = fakes({ [A]: 30, [B]: 15 });
    const at = '2026-11-29T10:00:00.000Z';
    // Act
    const made = await archiveRecords(deps, [record(A, at), record(B, at), record(C, at)]);
    // Assess
    expect(made.map((d) => d.tenantId)).toEqual([A, B, C]);
  });

  it('come in tenant order when the batch lists them backwards', async () => {
    const { deps } = fakes({ [C]: 30 });
    const at = '2026-11-29T10:00:00.000Z';
    const made = await archiveRecords(deps, [record(C, at), record(B, at), record(A, at)]);
    expect(made.map((d) => d.tenantId)).toEqual([A, B, C]);
  });
});
