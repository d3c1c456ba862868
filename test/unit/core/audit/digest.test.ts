import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AuditRecord, buildRecord } from '#core/audit/audit.ts';
import {
  type Digest,
  type DigestSigner,
  digestHash,
  GENESIS_DIGEST_HASH,
  makeDigest,
  signatureValid,
  signedBytes,
  verifyTrail,
} from '#core/audit/digest.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer: DigestSigner = {
  keyId: 'test',
  sign: async (m) => sign('sha256', m, { key: privateKey, dsaEncoding: 'der' }),
  publicKeyPem: async () => PEM,
};
const T = 'tabcdefghijklmnop';
const now = new Date('2026-11-29T12:00:00.000Z');

function record(minute: number, second = 0): AuditRecord {
  const at = `2026-11-29T10:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}.000Z`;
  return buildRecord({
    tenantId: T,
    actor: { id: 'u1', type: 'user' },
    meta: { requestId: `r${minute}`, sourceIp: '10.0.0.1', userAgent: 'ua', now: at },
    draft: { action: 'role.create', resourceType: 'role', resourceId: `role${minute}` },
  });
}

/** Three digests over records at minutes 0–1, 10–11, 20–21, each made a minute after its last. */
async function trail(): Promise<{ digests: Digest[]; records: AuditRecord[] }> {
  const records = [record(0), record(1), record(10), record(11), record(20), record(21)];
  const digests: Digest[] = [];
  for (let i = 0; i < 3; i++) {
    digests.push(
      await makeDigest(
        {
          tenantId: T,
          previous: digests[i - 1],
          records: records.slice(2 * i, 2 * i + 2).reverse(),
          objects: [`k${i}`],
          at: `2026-11-29T10:${String(10 * i + 2).padStart(2, '0')}:00.000Z`,
        },
        signer,
      ),
    );
  }
  return { digests, records };
}

describe('making digests', () => {
  it('numbers, chains and signs them, listing the records by id', async () => {
    // Act
    const { digests, records } = await trail();
    // Assess
    const [first, second] = digests as [Digest, Digest];
    expect(first).toMatchObject({
      tenantId: T,
      seq: 1,
      previousHash: GENESIS_DIGEST_HASH,
      keyId: 'test',
      objects: ['k0'],
    });
    expect(first.records).toEqual([
      { id: records[0]?.id, hash: records[0]?.hash },
      { id: records[1]?.id, hash: records[1]?.hash },
    ]);
    expect(second.seq).toBe(2);
    expect(second.previousHash).toBe(digestHash(first));
    expect(signatureValid(first, PEM)).toBe(true);
    expect(signatureValid(first, other.publicKey.export({ type: 'spki', format: 'pem' }).toString())).toBe(
      false,
    );
    expect(signatureValid({ ...first, seq: 9 }, PEM)).toBe(false);
    expect(signatureValid({ ...first, signature: 'not base64 der' }, PEM)).toBe(false);
    expect(signatureValid(first, 'not a key')).toBe(false);
    expect(new TextDecoder().decode(signedBytes(first))).not.toContain('signature');
    expect(digestHash(first)).toMatch(/^[0-9a-f]{64}$/);
    expect(digestHash(first)).not.toBe(digestHash(second));
  });
});

describe('verifyTrail', () => {
  it('is ok on an intact trail and counts what is digested and what not yet', async () => {
    // Prepare
    const { digests, records } = await trail();
    const pending = record(30);
    // Act
    const verdict = verifyTrail(digests, [...records, pending], PEM, { now });
    // Assess
    expect(verdict).toEqual({ ok: true, digests: 3, digested: 6, undigested: 1 });
    expect(verifyTrail([], [pending], PEM, { now })).toEqual({
      ok: true,
      digests: 0,
      digested: 0,
      undigested: 1,
    });
  });

  it('checks the digests in number order whatever order they come in', async () => {
    const { digests, records } = await trail();
    expect(verifyTrail([...digests].reverse(), records, PEM, { now }).ok).toBe(true);
  });

  it('names a missing digest', async () => {
    // Prepare
    const { digests, records } = await trail();
    // Act
    const verdict = verifyTrail([digests[0], digests[2]] as Digest[], records, PEM, { now });
    // Assess
    expect(verdict).toMatchObject({
      ok: false,
      digests: 1,
      firstDivergence: { kind: 'digest-missing', digestSeq: 2 },
    });
    expect(verdict.firstDivergence?.message).toBe('Digest 2 is missing.');
  });

  it('names a bad signature', async () => {
    // Prepare
    const { digests, records } = await trail();
    const forged = { ...(digests[1] as Digest), records: [] };
    // Act
    const verdict = verifyTrail([digests[0], forged, digests[2]] as Digest[], records, PEM, { now });
    // Assess
    expect(verdict).toMatchObject({
      ok: false,
      digests: 1,
      firstDivergence: { kind: 'bad-signature', digestSeq: 2 },
    });
  });

  it('names a digest out of chain, even well signed', async () => {
    // Prepare
    const { digests, records } = await trail();
    const resigned = await makeDigest(
      {
        tenantId: T,
        previous: undefined,
        records: records.slice(2, 4),
        objects: [],
        at: '2026-11-29T10:12:00.000Z',
      },
      signer,
    );
    // Act
    const verdict = verifyTrail([digests[0], { ...resigned, seq: 2 }, digests[2]] as Digest[], records, PEM, {
      now,
    });
    // Assess
    expect(verdict.firstDivergence?.kind).toBe('bad-signature');
    const chained = await makeDigest(
      {
        tenantId: T,
        previous: digests[0],
        records: records.slice(2, 4),
        objects: [],
        at: '2026-11-29T10:12:00.000Z',
      },
      signer,
    );
    const outOfChain = verifyTrail(
      [digests[0], digests[1], { ...chained, seq: 3 }] as Digest[],
      records,
      PEM,
      { now },
    );
    expect(outOfChain.firstDivergence?.kind).toBe('bad-signature');
    const third = await makeDigest(
      {
        tenantId: T,
        previous: digests[0],
        records: records.slice(4),
        objects: [],
        at: '2026-11-29T10:22:00.000Z',
      },
      signer,
    );
    const relinked = { ...third, seq: 3 };
    const resignedThird = {
      ...relinked,
      signature: Buffer.from(await signer.sign(signedBytes(relinked))).toString('base64'),
    };
    const verdict3 = verifyTrail([digests[0], digests[1], resignedThird] as Digest[], records, PEM, { now });
    expect(verdict3).toMatchObject({
      ok: false,
      digests: 2,
      firstDivergence: {
        kind: 'digest-out-of-chain',
        digestSeq: 3,
        message: 'Digest 3 does not follow digest 2.',
      },
    });
  });

  it('names a deleted record, unless its digest is older than the table keeps records', async () => {
    // Prepare
    const { digests, records } = await trail();
    const without = records.filter((_, i) => i !== 3);
    // Act
    const verdict = verifyTrail(digests, without, PEM, { now });
    const expired = verifyTrail(digests, records.slice(4), PEM, { now, tableRetentionMs: 60 * 60_000 });
    const young = verifyTrail(digests, records.slice(4), PEM, { now, tableRetentionMs: 2 * 60 * 60_000 });
    const archive = verifyTrail(digests, records.slice(4), PEM, { now, tableRetentionMs: 1, complete: true });
    // Assess
    expect(verdict).toMatchObject({
      ok: false,
      digests: 2,
      digested: 4,
      firstDivergence: { kind: 'record-deleted', digestSeq: 2, recordId: records[3]?.id },
    });
    expect(expired).toEqual({ ok: true, digests: 3, digested: 6, undigested: 0 });
    expect(young.firstDivergence).toMatchObject({ kind: 'record-deleted', recordId: records[0]?.id });
    expect(archive.firstDivergence).toMatchObject({ kind: 'record-deleted', recordId: records[0]?.id });
  });

  it('names an altered record, re-hashed or not', async () => {
    // Prepare
    const { digests, records } = await trail();
    const target = records[2] as AuditRecord;
    const rehashed = buildRecord({
      tenantId: T,
      actor: { id: 'u1', type: 'user' },
      meta: { requestId: 'r10', sourceIp: '10.0.0.1', userAgent: 'ua', now: target.at },
      draft: { action: 'role.delete', resourceType: 'role', resourceId: 'role10' },
    });
    // Act
    const plain = verifyTrail(
      digests,
      records.map((r) => (r === target ? { ...r, action: 'x' } : r)),
      PEM,
      { now },
    );
    const forged = verifyTrail(
      digests,
      records.map((r) => (r === target ? { ...rehashed, id: target.id } : r)),
      PEM,
      { now },
    );
    // Assess
    for (const verdict of [plain, forged]) {
      expect(verdict.firstDivergence).toMatchObject({
        kind: 'record-altered',
        digestSeq: 2,
        recordId: target.id,
      });
    }
  });

  it('names an altered record not digested yet', async () => {
    const { digests, records } = await trail();
    const pending = record(30);
    const verdict = verifyTrail(digests, [...records, { ...pending, action: 'x' }], PEM, { now });
    expect(verdict).toMatchObject({
      ok: false,
      undigested: 1,
      firstDivergence: { kind: 'record-altered', recordId: pending.id },
    });
    expect(verdict.firstDivergence?.digestSeq).toBeUndefined();
  });

  it('names a record backdated into a time a digest covered: in a later digest, or in none', async () => {
    // Prepare: digest 3 holds a record 5 minutes older than digest 2
    const { digests, records } = await trail();
    const backdated = record(6);
    const late = await makeDigest(
      {
        tenantId: T,
        previous: digests[1],
        records: [records[4] as AuditRecord, backdated],
        objects: [],
        at: '2026-11-29T10:22:00.000Z',
      },
      signer,
    );
    // Act
    const inDigest = verifyTrail([digests[0], digests[1], late] as Digest[], [...records, backdated], PEM, {
      now,
      lagToleranceMs: 60_000,
    });
    const tolerated = verifyTrail([digests[0], digests[1], late] as Digest[], [...records, backdated], PEM, {
      now,
      lagToleranceMs: 10 * 60_000,
    });
    const stray = record(15);
    const inNone = verifyTrail(digests, [...records, stray], PEM, { now, lagToleranceMs: 60_000 });
    const recent = verifyTrail(digests, [...records, record(21, 30)], PEM, { now, lagToleranceMs: 60_000 });
    // Assess
    expect(inDigest.firstDivergence).toMatchObject({
      kind: 'record-inserted',
      digestSeq: 3,
      recordId: backdated.id,
    });
    expect(tolerated).toMatchObject({ ok: true, digested: 6, undigested: 1 });
    expect(inNone.firstDivergence).toMatchObject({
      kind: 'record-inserted',
      digestSeq: 3,
      recordId: stray.id,
    });
    expect(inNone.firstDivergence?.message).toContain('no digest holds it');
    expect(recent).toMatchObject({ ok: true, undigested: 1 });
  });
});
