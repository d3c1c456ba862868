/**
 * The digest trail's check (functions/core/audit/digest.ts) at its edges: the genesis hash spelled
 * out, the default lag tolerance and the retention limit at the exact millisecond, a record altered
 * and re-hashed so it matches itself but not its digest, the first divergence in id order whatever
 * order records and digest entries come in, and each divergence's message word for word.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AuditRecord, buildRecord, hashRecord } from '#core/audit/audit.ts';
import {
  type Digest,
  type DigestSigner,
  GENESIS_DIGEST_HASH,
  makeDigest,
  signedBytes,
  verifyTrail,
} from '#core/audit/digest.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signer: DigestSigner = {
  keyId: 'test',
  sign: async (m) => sign('sha256', m, { key: privateKey, dsaEncoding: 'der' }),
  publicKeyPem: async () => PEM,
};
const T = 'tabcdefghijklmnop';
const now = new Date('2026-11-29T12:00:00.000Z');

/** A record at `hh:mm:ss.ms` on 2026-11-29; ids follow time. */
function record(time: string): AuditRecord {
  return buildRecord({
    tenantId: T,
    actor: { id: 'u1', type: 'user' },
    meta: { requestId: `r${time}`, sourceIp: '10.0.0.1', userAgent: 'ua', now: `2026-11-29T${time}Z` },
    draft: { action: 'role.create', resourceType: 'role', resourceId: `role${time}` },
  });
}

/** The record with one field changed and its own hash recomputed: intact, but not what was digested. */
function rehashed(r: AuditRecord): AuditRecord {
  const { hash: _old, ...rest } = r;
  const changed = { ...rest, action: 'role.delete' };
  return { ...changed, hash: hashRecord(changed) };
}

const digestOf = (previous: Digest | undefined, records: readonly AuditRecord[], at: string) =>
  makeDigest({ tenantId: T, previous, records, objects: [], at: `2026-11-29T${at}Z` }, signer);

/** Digest 1 at 10:02 over records at 10:00 and 10:01; digest 2 at 10:12 over `second`. */
async function twoDigests(second: readonly AuditRecord[]) {
  const first = [record('10:00:00.000'), record('10:01:00.000')];
  const d1 = await digestOf(undefined, first, '10:02:00.000');
  const d2 = await digestOf(d1, second, '10:12:00.000');
  return { digests: [d1, d2], records: [...first, ...second], d1, d2 };
}

describe('the genesis hash', () => {
  it('is 64 zeros, and the first digest names it as its previous', async () => {
    const d1 = await digestOf(undefined, [record('10:00:00.000')], '10:02:00.000');
    expect(GENESIS_DIGEST_HASH).toBe('0000000000000000000000000000000000000000000000000000000000000000');
    expect(d1.previousHash).toBe('0000000000000000000000000000000000000000000000000000000000000000');
  });
});

describe('the default lag tolerance: five minutes', () => {
  it('takes a record in the next digest exactly five minutes older than the previous digest', async () => {
    // Digest 1 is at 10:02, so 09:57:00.000 is the oldest time digest 2 may hold.
    const { digests, records } = await twoDigests([record('09:57:00.000')]);
    expect(verifyTrail(digests, records, PEM, { now })).toEqual({
      ok: true,
      digests: 2,
      digested: 3,
      undigested: 0,
    });
  });

  it('names one a millisecond older as inserted, with the digest that had covered its time', async () => {
    const late = record('09:56:59.999');
    const { digests, records } = await twoDigests([late]);
    expect(verifyTrail(digests, records, PEM, { now }).firstDivergence).toEqual({
      kind: 'record-inserted',
      digestSeq: 2,
      recordId: late.id,
      message: `Record ${late.id} claims a time digest 1 had already covered.`,
    });
  });

  it('leaves an undigested record exactly five minutes older than the last digest undigested', async () => {
    // The last digest is at 10:12: 10:07:00.000 may still be on its way.
    const { digests, records } = await twoDigests([record('10:10:00.000')]);
    const onTime = record('10:07:00.000');
    expect(verifyTrail(digests, [...records, onTime], PEM, { now })).toEqual({
      ok: true,
      digests: 2,
      digested: 3,
      undigested: 1,
    });
  });

  it('names undigested records a millisecond older as inserted, the lowest id first', async () => {
    const { digests, records } = await twoDigests([record('10:10:00.000')]);
    const older = record('10:05:00.000');
    const newer = record('10:06:59.999');
    const verdict = verifyTrail(digests, [newer, ...records, older], PEM, { now });
    expect(verdict).toMatchObject({ ok: false, digests: 2, digested: 3, undigested: 2 });
    expect(verdict.firstDivergence).toEqual({
      kind: 'record-inserted',
      digestSeq: 2,
      recordId: older.id,
      message: `Record ${older.id} claims a time digest 2 had already covered, but no digest holds it.`,
    });
    expect(verifyTrail(digests, [newer, ...records], PEM, { now }).firstDivergence?.recordId).toBe(newer.id);
  });
});

describe('the table retention limit', () => {
  // Digest 1 is at 10:02, `now` 12:00: 118 minutes later.
  const edge = 118 * 60_000;

  it('lets the records of a digest exactly as old as the retention be gone', async () => {
    const { digests, records } = await twoDigests([record('10:10:00.000')]);
    expect(verifyTrail(digests, records.slice(2), PEM, { now, tableRetentionMs: edge })).toEqual({
      ok: true,
      digests: 2,
      digested: 3,
      undigested: 0,
    });
  });

  it('names them deleted while the digest is a millisecond younger than that', async () => {
    const { digests, records } = await twoDigests([record('10:10:00.000')]);
    const verdict = verifyTrail(digests, records.slice(2), PEM, { now, tableRetentionMs: edge + 1 });
    expect(verdict.firstDivergence).toEqual({
      kind: 'record-deleted',
      digestSeq: 1,
      recordId: records[0]?.id,
      message: `Record ${records[0]?.id} was deleted after digest 1.`,
    });
  });
});

describe('an altered record', () => {
  it('is named when it was re-hashed to match itself, because its digest holds the old hash', async () => {
    // Prepare
    const target = record('10:10:00.000');
    const { digests, records } = await twoDigests([target]);
    const forged = rehashed(target);
    // Act
    const verdict = verifyTrail(
      digests,
      records.map((r) => (r === target ? forged : r)),
      PEM,
      { now },
    );
    // Assess
    expect(verdict).toEqual({
      ok: false,
      digests: 2,
      digested: 3,
      undigested: 0,
      firstDivergence: {
        kind: 'record-altered',
        digestSeq: 2,
        recordId: target.id,
        message: `Record ${target.id} was altered after digest 2.`,
      },
    });
  });

  it('not digested yet: the lowest id is named first, whatever the order', async () => {
    const { digests, records } = await twoDigests([record('10:10:00.000')]);
    const a = record('10:20:00.000');
    const b = record('10:21:00.000');
    const altered = (r: AuditRecord): AuditRecord => ({ ...r, action: 'role.delete' });
    const verdict = verifyTrail(digests, [altered(b), ...records, altered(a)], PEM, { now });
    expect(verdict).toEqual({
      ok: false,
      digests: 2,
      digested: 3,
      undigested: 2,
      firstDivergence: {
        kind: 'record-altered',
        recordId: a.id,
        message: `Record ${a.id} (not digested yet) does not match its own hash.`,
      },
    });
  });
});

describe('a digest whose entries are not in id order', () => {
  it('is still checked entry by entry in id order', async () => {
    // Prepare: a digest signed with its entries reversed (makeDigest always sorts them)
    const low = record('10:00:00.000');
    const high = record('10:01:00.000');
    const made = await digestOf(undefined, [low, high], '10:02:00.000');
    const { signature: _s, ...unsigned } = made;
    const reversed = { ...unsigned, records: [...unsigned.records].reverse() };
    const signature = Buffer.from(await signer.sign(signedBytes(reversed))).toString('base64');
    const digest: Digest = { ...reversed, signature };
    // Act: both records gone from the table
    const verdict = verifyTrail([digest], [], PEM, { now });
    // Assess: the lower id is the first divergence, and only it was counted
    expect(digest.records.map((r) => r.id)).toEqual([high.id, low.id]);
    expect(verdict).toEqual({
      ok: false,
      digests: 1,
      digested: 1,
      undigested: 0,
      firstDivergence: {
        kind: 'record-deleted',
        digestSeq: 1,
        recordId: low.id,
        message: `Record ${low.id} was deleted after digest 1.`,
      },
    });
  });
});

describe('a bad signature', () => {
  it('is named in words', async () => {
    const { digests, records, d2 } = await twoDigests([record('10:10:00.000')]);
    const forged = { ...d2, objects: ['elsewhere'] };
    expect(verifyTrail([digests[0] as Digest, forged], records, PEM, { now }).firstDivergence).toEqual({
      kind: 'bad-signature',
      digestSeq: 2,
      message: 'Digest 2 has a bad signature.',
    });
  });
});
