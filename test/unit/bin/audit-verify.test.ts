import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveRecords, type DigestIndex, digestKey } from '#core/audit/archiver.ts';
import { type AuditRecord, buildRecord } from '#core/audit/audit.ts';
import type { Digest } from '#core/audit/digest.ts';
import { folderSource, verifyArchive } from '../../../bin/audit-verify.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const A = 'taaaaaaaaaaaaaaaa';
const B = 'tbbbbbbbbbbbbbbbb';

function record(tenantId: string, second: number): AuditRecord {
  return buildRecord({
    tenantId,
    actor: { id: 'u1', type: 'user' },
    meta: {
      requestId: `r${second}`,
      sourceIp: '10.0.0.1',
      userAgent: 'ua',
      now: `2026-11-29T10:00:${String(second).padStart(2, '0')}.000Z`,
    },
    draft: { action: 'role.create', resourceType: 'role', resourceId: `role${second}` },
  });
}

/** Writes an archive into a fresh folder with the real archiver: two batches, two tenants. */
async function archiveFolder(): Promise<{ root: string; records: AuditRecord[] }> {
  const root = await mkdtemp(join(tmpdir(), 'meridian-archive-'));
  const put = async (key: string, body: string) => {
    await mkdir(dirname(join(root, key)), { recursive: true });
    await writeFile(join(root, key), body);
  };
  const latest = new Map<string, Digest>();
  const index: DigestIndex = {
    latest: async (t) => latest.get(t),
    add: async (d) => {
      latest.set(d.tenantId, d);
    },
    expire: async () => undefined,
  };
  let clock = Date.parse('2026-11-29T10:00:30.000Z');
  const deps = {
    archive: {
      putObject: put,
      putDigest: (d: Digest) => put(digestKey(d.tenantId, d.seq), JSON.stringify(d)),
      listDigests: async () => [],
    },
    index,
    signer: {
      keyId: 'test',
      sign: async (m: Uint8Array) => sign('sha256', m, { key: privateKey, dsaEncoding: 'der' }),
      publicKeyPem: async () => PEM,
    },
    now: () => {
      clock += 1000;
      return new Date(clock);
    },
  };
  const records = [record(A, 1), record(B, 2), record(A, 3), record(A, 40), record(B, 41)];
  await archiveRecords(deps, records.slice(0, 3));
  await archiveRecords(deps, records.slice(3));
  return { root, records };
}

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

describe('bin/audit-verify.ts', () => {
  let keyFile: string;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-key-'));
    roots.push(dir);
    keyFile = join(dir, 'public.pem');
    await writeFile(keyFile, PEM);
  });

  it('verifies every tenant of an intact archive folder', async () => {
    // Prepare
    const { root } = await archiveFolder();
    roots.push(root);
    // Act
    const verdicts = await verifyArchive(folderSource(root), PEM);
    // Assess
    expect(Object.fromEntries(verdicts)).toEqual({
      [A]: { ok: true, digests: 2, digested: 3, undigested: 0 },
      [B]: { ok: true, digests: 2, digested: 2, undigested: 0 },
    });
    expect([...(await verifyArchive(folderSource(root), PEM, B)).keys()]).toEqual([B]);
  });

  it('names an altered record, a deleted record file and a missing digest', async () => {
    // Prepare
    const { root, records } = await archiveFolder();
    roots.push(root);
    const keys = await folderSource(root).keys();
    const fileOf = (id: string) => keys.find((k) => k.startsWith('records/') && k.includes(id)) ?? '';
    const altered = join(root, fileOf(records[0]?.id ?? ''));
    await writeFile(altered, (await readFile(altered, 'utf8')).replace('role.create', 'role.delete'));
    await unlink(join(root, fileOf(records[1]?.id ?? '')));
    // Act
    const verdicts = await verifyArchive(folderSource(root), PEM);
    await unlink(join(root, digestKey(B, 1)));
    const gap = await verifyArchive(folderSource(root), PEM, B);
    // Assess
    expect(verdicts.get(A)?.firstDivergence).toMatchObject({
      kind: 'record-altered',
      recordId: records[0]?.id,
    });
    expect(verdicts.get(B)?.firstDivergence).toMatchObject({
      kind: 'record-deleted',
      recordId: records[1]?.id,
    });
    expect(gap.get(B)?.firstDivergence).toMatchObject({ kind: 'digest-missing', digestSeq: 1 });
  });

  it('as a command: exit 0 and a line per tenant when intact, 1 naming the divergence, 2 without a key', async () => {
    // Prepare
    const { root } = await archiveFolder();
    roots.push(root);
    const run = (args: string[]) =>
      promisify(execFile)('node_modules/.bin/tsx', ['bin/audit-verify.ts', ...args]).then(
        (out) => ({ code: 0, ...out }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    // Act
    const ok = await run([root, '--public-key', keyFile]);
    await unlink(join(root, digestKey(A, 1)));
    const failed = await run([root, '--public-key', keyFile]);
    const usage = await run([root]);
    // Assess
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${A}: OK (2 digests, 3 records digested, 0 not digested)`);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(`${A}: FAILED`);
    expect(failed.stdout).toContain('digest-missing: Digest 1 is missing.');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage:');
  }, 60_000);
});
