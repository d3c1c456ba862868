import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { tracer } from '#shared/observability.ts';
import { s3Client, s3Options } from './aws-clients.ts';
import type { TenantTableClients } from './tenant-credentials.ts';

/*
 * Per-tenant clients of the tenant's secrets and artifact prefix, on the same fenced credentials as
 * its table client (functions/adapters/tenant-credentials.ts); without a tenant data role (local
 * platform) the shared clients. Free functions, not methods, so a function that reaches only S3 (or
 * only secrets) bundles only that SDK client: esbuild drops an unused function, never a method.
 */

let sharedSecrets: SecretsManagerClient | undefined;

/** A Secrets Manager client fenced to the tenant's secret path (AWS) or the shared one. */
export async function secretsFor(
  clients: TenantTableClients,
  tenantId: string,
): Promise<SecretsManagerClient> {
  const fenced = clients.fenced(tenantId, 'secrets', (credentials) =>
    tracer.captureAWSv3Client(new SecretsManagerClient({ credentials })),
  );
  if (fenced) return fenced;
  sharedSecrets ??= tracer.captureAWSv3Client(new SecretsManagerClient({}));
  return sharedSecrets;
}

/** An S3 client fenced to the tenant's `tenants/<tenantId>/` prefix (AWS) or the shared one. */
export async function s3For(clients: TenantTableClients, tenantId: string): Promise<S3Client> {
  return (
    clients.fenced(tenantId, 's3', (credentials) =>
      tracer.captureAWSv3Client(new S3Client({ ...s3Options(), credentials })),
    ) ?? s3Client()
  );
}

/**
 * Sessions that sign links last an hour (the most a chained role session may), so one serves every
 * 15-minute link for 45 minutes: a link lives only as long as the session that signed it, and a fresh
 * AssumeRole per link would let one tenant's downloads throttle STS for every tenant.
 */
const SIGNING_SESSION_SECONDS = 3600;

/**
 * An S3 client to presign a link that must work for `seconds`: on tenant credentials that outlive it
 * (AWS; the cached ones may have a minute left, and a link dies with the session that signed it),
 * else the shared one. Built per link, never cached: its credentials are static.
 */
export async function presignS3For(
  clients: TenantTableClients,
  tenantId: string,
  seconds: number,
): Promise<S3Client> {
  const signing = clients.fenced(tenantId, 'signing', (_, sessions) => sessions(SIGNING_SESSION_SECONDS));
  if (!signing) return s3Client();
  const credentials = await signing({ minValidityMs: seconds * 1000 });
  return new S3Client({ ...s3Options(), credentials });
}

/**
 * A Step Functions client fenced to the tenant's own workflow machines and their executions (AWS:
 * the function's tenant data role: the API's, the schedule fire function's, the lifecycle
 * function's), or `shared` without a tenant data role.
 */
export function sfnFor(clients: TenantTableClients, tenantId: string, shared: () => SFNClient): SFNClient {
  return (
    clients.fenced(tenantId, 'sfn', (credentials) =>
      tracer.captureAWSv3Client(new SFNClient({ credentials })),
    ) ?? shared()
  );
}
