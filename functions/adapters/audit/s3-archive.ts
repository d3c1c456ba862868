import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AuditArchiveStore } from '#core/audit/archiver.ts';
import { digestKey } from '#core/audit/archiver.ts';
import type { Digest } from '#core/audit/digest.ts';

/**
 * The audit archive bucket. On AWS the bucket's default Object Lock retention (COMPLIANCE, see
 * lib/constructs/audit-archive.ts) applies to every object written here, and the SDK's default
 * checksum satisfies Object Lock's integrity header; locally s3rver has no Object Lock.
 */
export class S3AuditArchive implements AuditArchiveStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async putObject(key: string, body: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/x-ndjson',
      }),
    );
  }

  async putDigest(digest: Digest): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: digestKey(digest.tenantId, digest.seq),
        Body: JSON.stringify(digest),
        ContentType: 'application/json',
      }),
    );
  }

  /** Every object key under `prefix`, all pages. */
  async keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async text(key: string): Promise<string> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return (await out.Body?.transformToString('utf8')) ?? '';
  }

  async listDigests(tenantId: string): Promise<Digest[]> {
    const keys = await this.keys(`digests/tenant=${tenantId}/`);
    return Promise.all(keys.map(async (key) => JSON.parse(await this.text(key)) as Digest));
  }
}
