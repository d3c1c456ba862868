import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
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

/** Tenant files in the artifacts bucket: export files, and retention tags on execution artifacts. */
export class S3TenantFiles {
  constructor(
    private readonly clientFor: TenantS3,
    private readonly bucket: string,
    /** The client a link is signed with: one whose credentials outlive the link (tenant-storage-clients.ts). */
    private readonly presignClientFor: (tenantId: string, seconds: number) => Promise<S3Client> = clientFor,
  ) {}

  /** Writes `body` at `tenants/<t>/<relativeKey>`. */
  async put(tenantId: string, relativeKey: string, body: string, contentType: string): Promise<void> {
    const client = await this.clientFor(tenantId);
    await client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `${tenantPrefix(tenantId)}${relativeKey}`,
        Body: body,
        ContentType: contentType,
      }),
    );
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
