import {
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { TenantEraser } from '#core/tenancy/offboarding.ts';
import { RETENTION_TAG, retentionClass } from '#shared/retention-classes.ts';
import { tenantPk } from './dynamo/keys.ts';
import type { TenantS3 } from './s3-artifacts.ts';

/** `tenants/<tenantId>/`: every object of a tenant in the artifacts bucket lives under it. */
export function tenantPrefix(tenantId: string): string {
  return `tenants/${tenantPk(tenantId).slice('TENANT#'.length)}/`;
}

/**
 * Deletes every object under the tenant's prefix, 1,000 per call. On a versioned bucket (AWS) every
 * version and delete marker goes, so nothing waits out the noncurrent-version rule; s3rver keeps no
 * versions, so locally a plain listing is enough.
 */
export class S3PrefixEraser implements TenantEraser {
  readonly name = 'objects';

  constructor(
    private readonly clientFor: TenantS3,
    private readonly bucket: string,
    private readonly versioned: boolean,
  ) {}

  async erase(tenantId: string): Promise<{ erased: number; cursor?: string }> {
    const client = await this.clientFor(tenantId);
    const prefix = tenantPrefix(tenantId);
    let objects: { Key: string; VersionId?: string }[];
    let more: boolean;
    if (this.versioned) {
      const out = await client.send(
        new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1000 }),
      );
      objects = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].flatMap((v) =>
        v.Key ? [{ Key: v.Key, ...(v.VersionId ? { VersionId: v.VersionId } : {}) }] : [],
      );
      more = out.IsTruncated === true;
    } else {
      const out = await client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1000 }),
      );
      objects = (out.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      more = out.IsTruncated === true;
    }
    if (objects.length > 0) {
      await client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }),
      );
    }
    // Deleted objects leave the listing, so the next call lists from the start again.
    return { erased: objects.length, ...(more ? { cursor: 'more' } : {}) };
  }
}

/** Part size of a streamed write: over S3's 5 MiB least, and what a write holds in memory. */
const WRITE_PART_BYTES = 8 * 1024 * 1024;

/** Tenant files in the artifacts bucket: export files, and retention tags on execution artifacts. */
export class S3TenantFiles {
  constructor(
    private readonly clientFor: TenantS3,
    private readonly bucket: string,
    /** The client a link is signed with: one whose credentials outlive the link (tenant-storage-clients.ts). */
    private readonly presignClientFor: (tenantId: string, seconds: number) => Promise<S3Client> = clientFor,
    /** Bytes per part of a streamed write; S3's least is 5 MiB (all parts but the last). */
    private readonly partBytes = WRITE_PART_BYTES,
  ) {}

  /**
   * Writes `chunks` at `tenants/<t>/<relativeKey>` holding at most one part in memory: a file under
   * one part is one PutObject; a larger one is a multipart upload. Returns the bytes written. An
   * upload that fails midway is left to the bucket's rule that aborts incomplete uploads after a
   * day (lib/constructs/storage.ts), so no function needs s3:AbortMultipartUpload.
   */
  async write(
    tenantId: string,
    relativeKey: string,
    chunks: AsyncIterable<string>,
    contentType: string,
  ): Promise<number> {
    const client = await this.clientFor(tenantId);
    const target = { Bucket: this.bucket, Key: `${tenantPrefix(tenantId)}${relativeKey}` };
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let written = 0;
    let uploadId: string | undefined;
    const parts: CompletedPart[] = [];
    const flush = async () => {
      const body = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      uploadId ??= (
        await client.send(new CreateMultipartUploadCommand({ ...target, ContentType: contentType }))
      ).UploadId;
      const PartNumber = parts.length + 1;
      const { ETag } = await client.send(
        new UploadPartCommand({ ...target, UploadId: uploadId, PartNumber, Body: body }),
      );
      parts.push({ ETag, PartNumber });
    };
    for await (const chunk of chunks) {
      const bytes = Buffer.from(chunk);
      pending.push(bytes);
      pendingBytes += bytes.length;
      written += bytes.length;
      if (pendingBytes >= this.partBytes) await flush();
    }
    if (uploadId === undefined) {
      await client.send(
        new PutObjectCommand({ ...target, Body: Buffer.concat(pending), ContentType: contentType }),
      );
      return written;
    }
    if (pendingBytes > 0) await flush();
    await client.send(
      new CompleteMultipartUploadCommand({
        ...target,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return written;
  }

  /** A link to download `tenants/<t>/<relativeKey>`, valid for `seconds`. */
  async presign(tenantId: string, relativeKey: string, seconds: number): Promise<string> {
    const client = await this.presignClientFor(tenantId, seconds);
    return getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: this.bucket, Key: `${tenantPrefix(tenantId)}${relativeKey}` }),
      { expiresIn: seconds },
    );
  }

  /**
   * Tags every object under `tenants/<t>/<relativePrefix>` with its retention class, so the bucket's
   * lifecycle rule for that class expires it. Returns how many were tagged.
   */
  async tagRetention(tenantId: string, relativePrefix: string, days: number): Promise<number> {
    const client = await this.clientFor(tenantId);
    let token: string | undefined;
    let tagged = 0;
    do {
      const out = await client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: `${tenantPrefix(tenantId)}${relativePrefix}`,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of out.Contents ?? []) {
        if (!object.Key) continue;
        await client.send(
          new PutObjectTaggingCommand({
            Bucket: this.bucket,
            Key: object.Key,
            Tagging: { TagSet: [{ Key: RETENTION_TAG, Value: String(retentionClass(days)) }] },
          }),
        );
        tagged++;
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return tagged;
  }
}
