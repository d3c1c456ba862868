import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { tracer } from '#shared/observability.ts';
import { TENANT_TAG } from '#shared/resource-names.ts';
import { TRANSLATE } from './aws-clients.ts';
import type { TenantClients } from './dynamo/table.ts';

/** Refresh assumed credentials this long before they expire. */
const REFRESH_MARGIN_MS = 60_000;
/** Containers serving many tenants keep at most this many tenants' clients. */
const MAX_TENANTS = 200;

/**
 * Credentials that reach only one tenant's data: STS AssumeRole on the tenant data role with a
 * `TenantId` session tag, which the role's policy turns into `dynamodb:LeadingKeys`, a Secrets
 * Manager path and an S3 prefix. Cached per tenant per container and refreshed before expiry, or
 * earlier when the caller needs them valid longer (`minValidityMs`: a presigned link lives only as
 * long as the session that signed it).
 */
export function tenantCredentials(
  sts: STSClient,
  roleArn: string,
  tenantId: string,
  durationSeconds = 900,
): AwsCredentialIdentityProvider {
  let current: AwsCredentialIdentity | undefined;
  return async (properties?: Record<string, unknown>) => {
    const margin = Math.max(REFRESH_MARGIN_MS, Number(properties?.minValidityMs ?? 0));
    if (current?.expiration && current.expiration.getTime() - margin > Date.now()) return current;
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: `tenant-${tenantId}`,
        DurationSeconds: durationSeconds,
        Tags: [{ Key: TENANT_TAG, Value: tenantId }],
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

/** What a tenant's entry holds: its fenced credentials and the clients built on them, by kind. */
interface TenantSet {
  readonly credentials: AwsCredentialIdentityProvider;
  readonly clients: Map<string, unknown>;
}

/** Credentials of the tenant's own sessions of `durationSeconds` (for what must outlive the cached ones). */
export type TenantSessions = (durationSeconds: number) => AwsCredentialIdentityProvider;

/**
 * Builds per-tenant DynamoDB clients. With a role ARN (AWS) each tenant gets clients on its own
 * fenced credentials; without one (local platform) every tenant shares the platform's clients, and
 * only the key module keeps tenants apart: the README says so. The S3 and Secrets Manager clients of
 * the functions that need them are added by functions/adapters/tenant-storage-clients.ts, so the
 * others (the authorizer first) do not bundle those SDK clients.
 */
export class TenantTableClients implements TenantClients {
  private readonly sets = new Map<string, TenantSet>();
  private sts: STSClient | undefined;

  constructor(
    readonly platform: DynamoDBDocumentClient,
    private readonly roleArn: string | undefined,
    sts?: STSClient,
  ) {
    this.sts = sts;
  }

  /**
   * The tenant's client of `kind`, built once on the tenant's fenced credentials (one AssumeRole per
   * tenant for every kind), or on sessions of its own length (`sessions`, for signing links);
   * `undefined` without a tenant data role. Public for functions/adapters/tenant-storage-clients.ts.
   */
  fenced<T>(
    tenantId: string,
    kind: string,
    build: (credentials: AwsCredentialIdentityProvider, sessions: TenantSessions) => T,
  ): T | undefined {
    const set = this.setOf(tenantId);
    if (!set) return undefined;
    let client = set.clients.get(kind) as T | undefined;
    if (client === undefined) {
      // setOf made both when it returned a set.
      const sts = this.sts as STSClient;
      const roleArn = this.roleArn as string;
      client = build(set.credentials, (seconds) => tenantCredentials(sts, roleArn, tenantId, seconds));
      set.clients.set(kind, client);
    }
    return client;
  }

  private setOf(tenantId: string): TenantSet | undefined {
    if (!this.roleArn) return undefined;
    let set = this.sets.get(tenantId);
    if (!set) {
      this.sts ??= tracer.captureAWSv3Client(new STSClient({}));
      set = { credentials: tenantCredentials(this.sts, this.roleArn, tenantId), clients: new Map() };
      if (this.sets.size >= MAX_TENANTS) {
        const oldest = this.sets.keys().next().value;
        if (oldest !== undefined) this.sets.delete(oldest);
      }
      this.sets.set(tenantId, set);
    }
    return set;
  }

  async forTenant(tenantId: string): Promise<DynamoDBDocumentClient> {
    return (
      this.fenced(tenantId, 'dynamo', (credentials) =>
        DynamoDBDocumentClient.from(
          tracer.captureAWSv3Client(new DynamoDBClient({ credentials })),
          TRANSLATE,
        ),
      ) ?? this.platform
    );
  }
}
