import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore } from '#core/executions/ports.ts';
import { tenantPk } from './dynamo/keys.ts';

/** The S3 client to use for one tenant's objects (on AWS: fenced to `tenants/<tenantId>/`). */
export type TenantS3 = (tenantId: string) => Promise<S3Client>;

// A relative key: no empty, `.` or `..` segment, no leading slash, printable ASCII only.
const RELATIVE_KEY = /^(?!.*(?:^|\/)\.{0,2}(?:\/|$))[\x21-\x7e]{1,900}$/;

/**
 * Large step outputs in the artifacts bucket, under `tenants/<tenantId>/…`, like every table key.
 * The store adds the prefix itself and takes only relative keys, so a caller can name no other
 * tenant's object; on AWS each tenant's calls also go through its own S3 client, whose session
 * policy allows only that prefix (the IAM second fence).
 */
export class S3ArtifactStore implements ArtifactStore {
  constructor(
    private readonly clientFor: TenantS3,
    private readonly bucket: string,
  ) {}

  private fullKey(tenantId: string, key: string): string {
    if (!RELATIVE_KEY.test(key)) throw new Error('Not a relative artifact key');
    // tenantPk validates the id shape, so the prefix is exactly one tenant's.
    return `tenants/${tenantPk(tenantId).slice('TENANT#'.length)}/${key}`;
  }

  async put(tenantId: string, key: string, body: string): Promise<string> {
    const fullKey = this.fullKey(tenantId, key);
    const client = await this.clientFor(tenantId);
    await client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: fullKey,
        Body: body,
        ContentType: 'application/json',
      }),
    );
    return `s3://${this.bucket}/${fullKey}`;
  }

  async get(tenantId: string, key: string): Promise<string> {
    const fullKey = this.fullKey(tenantId, key);
    const client = await this.clientFor(tenantId);
    const out = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: fullKey }));
    return (await out.Body?.transformToString('utf-8')) ?? '';
  }
}
