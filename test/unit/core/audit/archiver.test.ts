import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ArchiverDeps,
  type AuditArchiveStore,
  archiveRecords,
  type DigestIndex,
  digestKey,
  recordsKey,
} from '#core/audit/archiver.ts';
import { type AuditRecord, buildRecord } from '#core/audit/audit.ts';
import { type Digest, type DigestSigner, verifyTrail } from '#core/audit/digest.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signer: DigestSigner = {
  keyId: 'test',
  sign: async (m) => sign('sha256', m, { key: privateKey, dsaEncoding: 'der' }),
  publicKeyPem: async () => PEM,
};
const A = 'taaaaaaaaaaaaaaaa';
const B = 'tbbbbbbbbbbbbbbbb';

function record(tenantId: string, at: string, n = 0): AuditRecord {
  return buildRecord({
    tenantId,
    actor: { id: 'u1', type: 'user' },
    meta: { requestId: `r${n}`, sourceIp: '10.0.0.1', userAgent: 'ua', now: at },
    draft: { action: 'role.create', resourceType: 'role', resourceId: `role${n}` },
  });
}

/** In-memory archive and index that can be told to fail once at a given step. */
function fakes(failAt?: 'putObject' | 'putDigest' | 'add' | 'expire' | 'latest') {
  const objects = new Map<string, string>();
  const archived = new Map<string, Digest>();
  const index = new Map<string, Digest[]>();
  const expired: string[] = [];
  let armed = failAt;
  const maybeFail = (step: string) => {
    if (armed === step) {
      armed = undefined;
      throw Object.assign(new Error(`${step} failed`), { name: 'ThrottlingException' });
    }
  };
  const archive: AuditArchiveStore = {
    putObject: async (key, body) => {
      maybeFail('putObject');
      objects.set(key, body);
    },
    putDigest: async (d) => {
      maybeFail('putDigest');
      archived.set(digestKey(d.tenantId, d.seq), d);
    },
    listDigests: async (t) => [...archived.values()].filter((d) => d.tenantId === t),
  };
  const digestIndex: DigestIndex = {
    latest: async (t) => {
      maybeFail('latest');
      return index.get(t)?.at(-1);
    },
    add: async (d) => {
      maybeFail('add');
      const list = index.get(d.tenantId) ?? [];
      if (list.some((x) => x.seq === d.seq)) throw new Error('taken');
      index.set(d.tenantId, [...list, d]);
    },
    expire: async (_t, ids) => {
      maybeFail('expire');
      expired.push(...ids);
    },
  };
  let clock = Date.parse('2026-11-29T11:00:00.000Z');
  const deps: ArchiverDeps = {
    archive,
    index: digestIndex,
    signer,
    now: () => {
      clock += 1000;
      return new Date(clock);
    },
  };
  return { deps, objects, archived, expired };
}

/** Every record id in the archive's JSONL files, with repeats. */
const archivedIds = (objects: Map<string, string>) =>
  [...objects.values()].flatMap((body) =>
    body
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as AuditRecord).id),
  );

describe('archiving audit records', () => {
  it('writes JSONL per tenant and hour, then one signed digest per tenant, then lets the table expire them', async () => {
    // Prepare
    const { deps, objects, archived, expired } = fakes();
    const a1 = record(A, '2026-11-29T09:59:59.000Z', 1);
    const a2 = record(A, '2026-11-29T10:00:00.000Z', 2);
    const b1 = record(B, '2026-11-29T10:30:00.000Z', 3);
    // Act
    const made = await archiveRecords(deps, [a2, b1, a1]);
    // Assess
    expect(made.map((d) => [d.tenantId, d.seq])).toEqual([
      [A, 1],
      [B, 1],
    ]);
    expect([...objects.keys()].sort()).toEqual(
      [
        recordsKey(A, '2026-11-29T09', a1.id, a1.id),
        recordsKey(A, '2026-11-29T10', a2.id, a2.id),
        recordsKey(B, '2026-11-29T10', b1.id, b1.id),
      ].sort(),
    );
    expect(recordsKey(A, '2026-11-29T09', 'X', 'Y')).toBe(`records/tenant=${A}/2026/11/29/09/X-Y.jsonl`);
    expect(JSON.parse(objects.get(recordsKey(B, '2026-11-29T10', b1.id, b1.id))?.trim() ?? '')).toEqual(b1);
    expect(made[0]?.objects).toHaveLength(2);
    expect(made[0]?.records.map((r) => r.id)).toEqual([a1.id, a2.id]);
    expect(archived.get(digestKey(A, 1))).toEqual(made[0]);
    expect(digestKey(A, 12)).toBe(`digests/tenant=${A}/000000000012.json`);
    expect(expired.sort()).toEqual([a1.id, a2.id, b1.id].sort());
    expect(verifyTrail(await deps.archive.listDigests(A), [a1, a2], PEM, { now: new Date() }).ok).toBe(true);
  });

  it('skips a batch with nothing new, and a record repeated within the batch', async () => {
    // Prepare
    const { deps, archived } = fakes();
    const a1 = record(A, '2026-11-29T10:00:00.000Z', 1);
    await archiveRecords(deps, [a1]);
    // Act
    const again = await archiveRecords(deps, [a1, a1]);
    const none = await archiveRecords(deps, []);
    // Assess
    expect(again).toEqual([]);
    expect(none).toEqual([]);
    expect(archived.size).toBe(1);
  });

  it.each(['putObject', 'putDigest', 'add', 'expire', 'latest'] as const)(
    'a failure at %s (a crash mid-batch, a throttled call, a failed digest write) loses nothing and digests nothing twice once the batch is retried',
    async (step) => {
      // Prepare: 40 records of two tenants, the batch retried whole as the stream does
      const { deps, objects, archived } = fakes(step);
      const batch = Array.from({ length: 40 }, (_, i) =>
        record(i % 2 ? A : B, `2026-11-29T10:${String(i).padStart(2, '0')}:00.000Z`, i),
      );
      // Act
      const first = await archiveRecords(deps, batch).catch((e: Error) => e);
      await archiveRecords(deps, batch);
      // Assess
      expect(first).toBeInstanceOf(Error);
      for (const tenant of [A, B]) {
        const mine = batch.filter((r) => r.tenantId === tenant);
        const digests = await deps.archive.listDigests(tenant);
        const covered = digests.flatMap((d) => d.records.map((r) => r.id));
        expect(covered.sort()).toEqual(mine.map((r) => r.id).sort());
        expect(verifyTrail(digests, mine, PEM, { now: new Date() })).toMatchObject({
          ok: true,
          digested: 20,
          undigested: 0,
        });
      }
      expect(new Set(archivedIds(objects)).size).toBe(40);
      expect(archivedIds(objects)).toHaveLength(40);
      expect(archived.size).toBeGreaterThanOrEqual(2);
    },
  );
});

describe('two consumers racing on one tenant', () => {
  it('the loser cannot overwrite the winner’s digest in the archive', async () => {
    // Prepare: both read the same latest digest, the winner claims number 2 first
    const { deps, archived } = fakes();
    const first = record(A, '2026-11-29T10:00:00.000Z', 1);
    await archiveRecords(deps, [first]);
    const latest = await deps.index.latest(A);
    const racing: ArchiverDeps = { ...deps, index: { ...deps.index, latest: async () => latest } };
    const winner = record(A, '2026-11-29T10:01:00.000Z', 2);
    const loser = record(A, '2026-11-29T10:02:00.000Z', 3);
    await archiveRecords(racing, [winner]);
    // Act
    const lost = await archiveRecords(racing, [loser]).catch((e: Error) => e);
    await archiveRecords(deps, [loser]);
    // Assess
    expect(lost).toBeInstanceOf(Error);
    expect(archived.get(digestKey(A, 2))?.records.map((r) => r.id)).toEqual([winner.id]);
    expect(
      verifyTrail(await deps.archive.listDigests(A), [first, winner, loser], PEM, {
        now: new Date(),
        // The fake clock runs an hour after the records' times.
        lagToleranceMs: 2 * 3_600_000,
      }),
    ).toMatchObject({
      ok: true,
      digests: 3,
      undigested: 0,
    });
  });
});
