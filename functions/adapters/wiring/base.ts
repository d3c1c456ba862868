import type { ArtifactStore } from '#core/executions/ports.ts';
import type { SecretVault } from '#core/tenancy/ports.ts';
import { ConfigError, type Settings } from '#shared/config.ts';
import { cognitoClient, dynamoDocumentClient } from '../aws-clients.ts';
import { CognitoDirectory } from '../cognito-directory.ts';
import { Table } from '../dynamo/table.ts';
import { TableBase } from '../dynamo/table-base.ts';
import { LocalMailbox } from '../local-mailbox.ts';
import { S3ArtifactStore } from '../s3-artifacts.ts';
import { S3TenantFiles } from '../s3-tenant-data.ts';
import { SecretsManagerSecrets, SecretsManagerVault } from '../secret-vault.ts';
import { TenantTableClients } from '../tenant-credentials.ts';
import { presignS3For, s3For, secretsFor } from '../tenant-storage-clients.ts';
import { localSecretVault } from './local.ts';

/*
 * The pieces every composition root shares, as small factories: the table through the function's
 * tenant data role, and (for the functions that reach them) the tenant's secrets and artifacts.
 */

/** The mode, and the local platform's state folder. */
export type LocalSettings = Settings<'MERIDIAN_MODE' | 'MERIDIAN_STATE_DIR'>;

/** What the vaults read. */
type VaultSettings = LocalSettings & Settings<'SECRETS_PREFIX'>;

/** Throws one {@link ConfigError} naming every missing setting of `feature`. */
export function requireSettings(feature: string, needed: Record<string, string | undefined>): void {
  const missing = Object.entries(needed)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0)
    throw new ConfigError(`Invalid Meridian configuration: ${missing.join(', ')} required for ${feature}`);
}

/**
 * A port this function does not have: every call fails naming it. For use-case dependency objects
 * whose type lists ports that the use cases a function runs never call.
 */
export function notInThisFunction<T extends object>(port: string): T {
  return new Proxy({} as T, {
    get: (_target, method) =>
      typeof method === 'string' && method !== 'then'
        ? () =>
            Promise.reject(new ConfigError(`Invalid Meridian configuration: this function has no ${port}`))
        : undefined,
  });
}

/**
 * The table through per-tenant DynamoDB clients; {@link vaultOf}, {@link filesOf} and
 * {@link artifactsOf} add secrets and S3 on the same credentials, and only where a root calls them.
 */
export function tableOnly(cfg: Settings<'TABLE_NAME' | 'TENANT_DATA_ROLE_ARN'>): {
  clients: TenantTableClients;
  table: Table;
} {
  const clients = tenantClientsOf(cfg);
  return { clients, table: new Table(cfg.TABLE_NAME, clients) };
}

// Two factories over this one, not one with the table class as a parameter: the step runner's
// bundle would then carry Table (and its audit chain) too.
function tenantClientsOf(cfg: Settings<'TENANT_DATA_ROLE_ARN'>): TenantTableClients {
  return new TenantTableClients(dynamoDocumentClient(), cfg.TENANT_DATA_ROLE_ARN);
}

/**
 * The table without audited transactions or paged queries ({@link TableBase}), through the same
 * per-tenant clients: for a function that makes no audited change and lists nothing (the step runner).
 */
export function tableReadsOnly(cfg: Settings<'TABLE_NAME' | 'TENANT_DATA_ROLE_ARN'>): {
  clients: TenantTableClients;
  table: TableBase;
} {
  const clients = tenantClientsOf(cfg);
  return { clients, table: new TableBase(cfg.TABLE_NAME, clients) };
}

/** The local platform's vault (a key-encrypted folder it registers, wiring/local.ts); undefined elsewhere. */
function localVault(cfg: LocalSettings): SecretVault | undefined {
  return cfg.MERIDIAN_MODE === 'local' ? localSecretVault : undefined;
}

/** Tenant secrets: Secrets Manager through the tenant's credentials, a key-encrypted folder locally. */
export function vaultOf(cfg: VaultSettings, clients: TenantTableClients): SecretVault {
  return localVault(cfg) ?? new SecretsManagerVault((t) => secretsFor(clients, t), cfg.SECRETS_PREFIX);
}

/** Tenant secrets, read only: for a function that never writes one (the step runner). */
export function secretsOf(cfg: VaultSettings, clients: TenantTableClients): Pick<SecretVault, 'get'> {
  return localVault(cfg) ?? new SecretsManagerSecrets((t) => secretsFor(clients, t), cfg.SECRETS_PREFIX);
}

/**
 * The vault of a function whose tenant role reads no secret: the local folder on the local platform
 * (where notifications are delivered in-process), none on AWS.
 */
export function localVaultOnly(cfg: LocalSettings): SecretVault {
  return localVault(cfg) ?? notInThisFunction<SecretVault>('secret vault');
}

/** Tenant files in the artifacts bucket (exports, retention tags). */
export function filesOf(cfg: Settings<'ARTIFACT_BUCKET_NAME'>, clients: TenantTableClients): S3TenantFiles {
  return new S3TenantFiles(
    (tenantId) => s3For(clients, tenantId),
    cfg.ARTIFACT_BUCKET_NAME ?? '',
    (tenantId, seconds) => presignS3For(clients, tenantId, seconds),
  );
}

/**
 * Large step outputs and inputs in the artifacts bucket, written and read back. A function without
 * the bucket fails only when it has to write one, naming the variable.
 */
export function offloadsOf(
  cfg: Settings<'ARTIFACT_BUCKET_NAME'>,
  clients: TenantTableClients,
): ArtifactStore {
  const bucket = cfg.ARTIFACT_BUCKET_NAME;
  const artifacts = new S3ArtifactStore((tenantId) => s3For(clients, tenantId), bucket ?? '');
  return {
    put: (tenantId, key, body) => {
      if (!bucket)
        throw new ConfigError(
          'Invalid Meridian configuration: ARTIFACT_BUCKET_NAME is required for large outputs',
        );
      return artifacts.put(tenantId, key, body);
    },
    get: (tenantId, key) => artifacts.get(tenantId, key),
  };
}

/**
 * {@link offloadsOf} and tagging an ended execution's artifacts for retention (a no-op without the
 * bucket). The step runner, which only offloads, wires the former and bundles no tagging.
 */
export function artifactsOf(
  cfg: Settings<'ARTIFACT_BUCKET_NAME'>,
  clients: TenantTableClients,
): ArtifactStore {
  const files = filesOf(cfg, clients);
  return {
    ...offloadsOf(cfg, clients),
    expire: async (tenantId, prefix, days) =>
      cfg.ARTIFACT_BUCKET_NAME ? files.tagRetention(tenantId, prefix, days) : 0,
  };
}

/** The user directory: Cognito, with the local platform's mailbox for invitations. */
export function directoryOf(cfg: Settings<'USER_POOL_ID'> & LocalSettings): CognitoDirectory {
  return new CognitoDirectory(
    cognitoClient(),
    cfg.USER_POOL_ID,
    cfg.MERIDIAN_MODE === 'local' && cfg.MERIDIAN_STATE_DIR
      ? LocalMailbox.of(cfg.MERIDIAN_STATE_DIR)
      : undefined,
  );
}
