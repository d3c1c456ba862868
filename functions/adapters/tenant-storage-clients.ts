import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { tracer } from '#shared/observability.ts';
import { s3Client, s3Options } from './aws-clients.ts';
import { TenantTableClients } from './tenant-credentials.ts';

/**
 * Per-tenant clients of the table, the tenant's secrets and the tenant's artifact prefix, on the same
 * fenced credentials (functions/adapters/tenant-credentials.ts); without a tenant data role (local
 * platform) the shared clients.
 */
export class TenantClientFactory extends TenantTableClients {
  private sharedSecrets: SecretsManagerClient | undefined;

  /** A Secrets Manager client fenced to the tenant's secret path (AWS) or the shared one. */
  async secretsFor(tenantId: string): Promise<SecretsManagerClient> {
    const fenced = this.fenced(tenantId, 'secrets', (credentials) =>
      tracer.captureAWSv3Client(new SecretsManagerClient({ credentials })),
    );
    if (fenced) return fenced;
    this.sharedSecrets ??= tracer.captureAWSv3Client(new SecretsManagerClient({}));
    return this.sharedSecrets;
  }

  /** An S3 client fenced to the tenant's `tenants/<tenantId>/` prefix (AWS) or the shared one. */
  async s3For(tenantId: string): Promise<S3Client> {
    return (
      this.fenced(tenantId, 's3', (credentials) =>
        tracer.captureAWSv3Client(new S3Client({ ...s3Options(), credentials })),
      ) ?? s3Client()
    );
  }
}
