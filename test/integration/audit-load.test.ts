import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { AuditRecord } from '#core/audit/audit.ts';
import type { Digest } from '#core/audit/digest.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import { call } from '../helpers/api.ts';
import { createTenant, type TestTenant, uniqueName } from '../helpers/tenants.ts';

/** The archive on s3rver, read as a SIEM would. */
const s3 = new S3Client({
  endpoint: inject('s3Endpoint'),
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
afterAll(() => s3.destroy());

async function objects(prefix: string): Promise<string[]> {
  const texts: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: LOCAL_NAMES.auditBucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      const out = await s3.send(new GetObjectCommand({ Bucket: LOCAL_NAMES.auditBucket, Key: o.Key }));
      texts.push((await out.Body?.transformToString('utf8')) ?? '');
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return texts;
}

interface Verdict {
  ok: boolean;
  digested: number;
  undigested: number;
}

describe('audit at load', () => {
  it('1,000 mutations across 4 tenants at 32 concurrent: each archived exactly once, verify ok per tenant', async () => {
    // Prepare: enterprise tenants, so 250 writes each in a few seconds stay under the rate limit
    const tenants: TestTenant[] = await Promise.all(
      [1, 2, 3, 4].map(() => createTenant('audit-load', 'enterprise')),
    );
    const tokens = await Promise.all(tenants.map((t) => t.token()));
    const created: string[][] = tenants.map(() => []);
    let next = 0;
    const failures: string[] = [];
    // Act
    const worker = async () => {
      while (next < 1000) {
        const i = next++;
        const name = uniqueName(`load${i}`);
        const answer = await call('POST', '/roles', {
          token: tokens[i % 4] ?? '',
          body: { name, permissions: ['workflows:read'] },
        });
        if (answer.status === 201) created[i % 4]?.push(name);
        else failures.push(`${answer.status} ${answer.text.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    // Assess
    expect(failures).toEqual([]);
    for (const [index, tenant] of tenants.entries()) {
      const token = tokens[index] ?? '';
      let verdict: Verdict | undefined;
      const deadline = Date.now() + 60_000;
      do {
        if (verdict) await new Promise((r) => setTimeout(r, 500));
        verdict = (await call<Verdict>('GET', '/audit/verify', { token })).body;
      } while (verdict.undigested > 0 && Date.now() < deadline);
      // tenant.create, then 250 role.create
      expect(verdict).toMatchObject({ ok: true, digested: 251, undigested: 0 });
      const lines = (await objects(`records/tenant=${tenant.tenantId}/`)).flatMap((text) =>
        text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as AuditRecord),
      );
      const roles = lines.filter((r) => r.action === 'role.create').map((r) => r.resourceId);
      expect(roles.sort()).toEqual([...(created[index] ?? [])].sort());
      expect(new Set(lines.map((r) => r.id)).size).toBe(lines.length);
      const digests = (await objects(`digests/tenant=${tenant.tenantId}/`)).map(
        (t) => JSON.parse(t) as Digest,
      );
      const covered = digests.flatMap((d) => d.records.map((r) => r.id));
      expect(covered).toHaveLength(251);
      expect(new Set(covered)).toEqual(new Set(lines.map((r) => r.id)));
    }
  }, 300_000);
});
