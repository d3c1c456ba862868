import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { tracer } from '#shared/observability.ts';
import { s3Client, s3Options, TRANSLATE } from './aws-clients.ts';
import type { TenantClients } from './dynamo/table.ts';

/** Refresh assumed credentials this long before they expire. */
const REFRESH_MARGIN_MS = 60_000;
/** Containers serving many tenants keep at most this many tenants' clients. */
const MAX_TENANTS = 200;

/**
 * Credentials that reach only one tenant's data: STS AssumeRole on the tenant data role with a
 * `TenantId` session tag, which the role's policy turns into `dynamodb:LeadingKeys`, a Secrets
 * Manager path and an S3 prefix. Cached per tenant per container and refreshed before expiry.
 */
export function tenantCredentials(
  sts: STSClient,
  roleArn: string,
  tenantId: string,
): AwsCredentialIdentityProvider {
  let current: AwsCredentialIdentity | undefined;
  return async () => {
    if (current?.expiration && current.expiration.getTime() - REFRESH_MARGIN_MS > Date.now()) return current;
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: `tenant-${tenantId}`,
        DurationSeconds: 900,
        Tags: [{ Key: 'TenantId', Value: tenantId }],
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error('STS returned no credentials for the tenant data role');
    }
    current = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
    return current;
  };
}

interface TenantSet {
  readonly dynamo: DynamoDBDocumentClient;
  readonly secrets: SecretsManagerClient;
  readonly s3: S3Client;
}

/**
 * Builds per-tenant clients. With a role ARN (AWS) each tenant gets clients on its own fenced
 * credentials; without one (local platform) every tenant shares the platform's clients, and only
 * the key module keeps tenants apart: the README says so.
 */
export class TenantClientFactory implements TenantClients {
  private readonly sets = new Map<string, TenantSet>();
  private sharedSecrets: SecretsManagerClient | undefined;
  private sts: STSClient | undefined;

  constructor(
    readonly platform: DynamoDBDocumentClient,
    private readonly roleArn: string | undefined,
  ) {}

  private set(tenantId: string): TenantSet | undefined {
    if (!this.roleArn) return undefined;
    let set = this.sets.get(tenantId);
    if (!set) {
      this.sts ??= tracer.captureAWSv3Client(new STSClient({}));
      const credentials = tenantCredentials(this.sts, this.roleArn, tenantId);
      set = {
        dynamo: DynamoDBDocumentClient.from(
          tracer.captureAWSv3Client(new DynamoDBClient({ credentials })),
          TRANSLATE,
        ),
        secrets: tracer.captureAWSv3Client(new SecretsManagerClient({ credentials })),
        s3: tracer.captureAWSv3Client(new S3Client({ ...s3Options(), credentials })),
      };
      if (this.sets.size >= MAX_TENANTS) {
        const oldest = this.sets.keys().next().value;
        if (oldest !== undefined) this.sets.delete(oldest);
      }
      this.sets.set(tenantId, set);
    }
    return set;
  }

  async forTenant(tenantId: string): Promise<DynamoDBDocumentClient> {
    return this.set(tenantId)?.dynamo ?? this.platform;
  }

  /** A Secrets Manager client fenced to the tenant's secret path (AWS) or the shared one. */
  async secretsFor(tenantId: string): Promise<SecretsManagerClient> {
    const set = this.set(tenantId);
    if (set) return set.secrets;
    this.sharedSecrets ??= tracer.captureAWSv3Client(new SecretsManagerClient({}));
    return this.sharedSecrets;
  }

  /** An S3 client fenced to the tenant's `tenants/<tenantId>/` prefix (AWS) or the shared one. */
  async s3For(tenantId: string): Promise<S3Client> {
    return this.set(tenantId)?.s3 ?? s3Client();
  }
}
