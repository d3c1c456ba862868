/**
 * Verifies an audit archive offline with only the public key, as `aws cloudtrail validate-logs` does:
 *
 *   npx tsx bin/audit-verify.ts <archive folder | s3://bucket[/prefix]> --public-key <pem file> [--tenant <id>]
 *
 * Reads every digest (`digests/tenant=<id>/*.json`) and record file (`records/tenant=<id>/**.jsonl`)
 * of each tenant, checks the digests' signatures and chain, and that every digested record is in the
 * archive unaltered (functions/core/audit/digest.ts). Exit code 0 when every tenant verifies, 1 when
 * one does not, 2 on a usage error. An s3:// source uses the AWS SDK's usual credentials and
 * honours AWS_ENDPOINT_URL (s3rver, LocalStack).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { AuditRecord } from '#core/audit/audit.ts';
import { type Digest, type TrailVerdict, verifyTrail } from '#core/audit/digest.ts';

/** A read-only view of an archive: its object keys and their text. */
export interface ArchiveSource {
  keys(): Promise<string[]>;
  text(key: string): Promise<string>;
}

/** An archive copied to a folder (e.g. `aws s3 sync s3://bucket dir`). */
export function folderSource(root: string): ArchiveSource {
  const walk = async (dir: string): Promise<string[]> => {
    const entries = await readdir(dir, { withFileTypes: true });
    const nested = await Promise.all(
      entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]))),
    );
    return nested.flat();
  };
  return {
    keys: async () => (await walk(root)).map((file) => relative(root, file).split(sep).join('/')),
    text: (key) => readFile(join(root, key), 'utf8'),
  };
}

/** An archive bucket, optionally under a prefix. */
export function s3Source(
  url: string,
  client = new S3Client({
    forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_S3),
  }),
): ArchiveSource {
  const { hostname: bucket, pathname } = new URL(url);
  const prefix = pathname.replace(/^\//, '');
  const base = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
  return {
    keys: async () => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: base, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key.slice(base.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    text: async (key) => {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${base}${key}` }));
      return (await out.Body?.transformToString('utf8')) ?? '';
    },
  };
}

/** Verifies every tenant of an archive (or one); returns each tenant's verdict. */
export async function verifyArchive(
  source: ArchiveSource,
  publicKeyPem: string,
  only?: string,
): Promise<Map<string, TrailVerdict>> {
  const keys = await source.keys();
  const tenantOf = (key: string) => /^(?:digests|records)\/tenant=([^/]+)\//.exec(key)?.[1];
  const tenants = [...new Set(keys.map(tenantOf).filter((t): t is string => t !== undefined))]
    .filter((t) => only === undefined || t === only)
    .sort();
  const verdicts = new Map<string, TrailVerdict>();
  for (const tenant of tenants) {
    const digests: Digest[] = [];
    const records = new Map<string, AuditRecord>();
    for (const key of keys.filter((k) => tenantOf(k) === tenant)) {
      const text = await source.text(key);
      if (key.startsWith('digests/') && key.endsWith('.json')) digests.push(JSON.parse(text) as Digest);
      if (key.startsWith('records/') && key.endsWith('.jsonl')) {
        for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
          const record = JSON.parse(line) as AuditRecord;
          records.set(record.id, record);
        }
      }
    }
    // The archive holds every digested record whatever its age.
    verdicts.set(
      tenant,
      verifyTrail(digests, [...records.values()], publicKeyPem, { now: new Date(), complete: true }),
    );
  }
  return verdicts;
}

async function main(argv: readonly string[]): Promise<number> {
  const args = [...argv];
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const [value] = args.splice(i, 2).slice(1);
    return value;
  };
  const keyFile = flag('--public-key');
  const tenant = flag('--tenant');
  const [location] = args;
  if (!location || !keyFile) {
    process.stderr.write(
      'usage: npx tsx bin/audit-verify.ts <archive folder | s3://bucket[/prefix]> --public-key <pem file> [--tenant <id>]\n',
    );
    return 2;
  }
  const source = location.startsWith('s3://') ? s3Source(location) : folderSource(location);
  const verdicts = await verifyArchive(source, await readFile(keyFile, 'utf8'), tenant);
  if (verdicts.size === 0) {
    process.stderr.write(`No tenant's digests or records under ${location}\n`);
    return 1;
  }
  let ok = true;
  for (const [id, v] of verdicts) {
    ok &&= v.ok;
    const summary = `${v.digests} digests, ${v.digested} records digested, ${v.undigested} not digested`;
    process.stdout.write(
      `${id}: ${v.ok ? 'OK' : 'FAILED'} (${summary})${v.firstDivergence ? `: ${v.firstDivergence.kind}: ${v.firstDivergence.message}` : ''}\n`,
    );
  }
  return ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
