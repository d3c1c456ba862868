import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore } from '#core/executions/ports.ts';
import { tenantPk } from './dynamo/keys.ts';

/**
 * Large step outputs in the artifacts bucket, under `tenants/<tenantId>/…`, referenced as
 * `s3://bucket/key`. The key always starts with the tenant, like every table key.
 */
export class S3ArtifactStore implements ArtifactStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(tenantId: string, key: string, body: string): Promise<string> {
    // tenantPk validates the id shape, so no path can escape the tenant's prefix.
    const fullKey = `tenants/${tenantPk(tenantId).slice('TENANT#'.length)}/${key}`;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: fullKey,
        Body: body,
        ContentType: 'application/json',
      }),
    );
    return `s3://${this.bucket}/${fullKey}`;
  }

  async get(ref: string): Promise<string> {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref);
    if (!match?.[1] || !match[2] || match[1] !== this.bucket)
      throw new Error('Not an artifact reference of this bucket');
    const out = await this.client.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
    return (await out.Body?.transformToString('utf-8')) ?? '';
  }
}
