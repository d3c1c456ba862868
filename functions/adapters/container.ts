import { join } from 'node:path';
import type { IdentityDirectory, SecretVault, TenancyStore } from '#core/tenancy/ports.ts';
import { config } from '#shared/config.ts';
import { cognitoClient, dynamoDocumentClient } from './aws-clients.ts';
import { CognitoDirectory } from './cognito-directory.ts';
import { Table } from './dynamo/table.ts';
import { DynamoTenancyStore } from './dynamo/tenancy-store.ts';
import { LocalFileVault, SecretsManagerVault } from './secret-vault.ts';
import { TenantClientFactory } from './tenant-credentials.ts';

/** The adapters a handler uses, wired once per container from the runtime config. */
export interface Container {
  readonly table: Table;
  readonly clients: TenantClientFactory;
  readonly store: TenancyStore;
  readonly directory: IdentityDirectory;
  readonly vault: SecretVault;
}

let container: Container | undefined;

/** The container's adapters, built on first use (cold start) and reused. */
export function adapters(): Container {
  if (container) return container;
  const cfg = config();
  const clients = new TenantClientFactory(dynamoDocumentClient(), cfg.TENANT_DATA_ROLE_ARN);
  const table = new Table(cfg.TABLE_NAME, clients);
  const vault: SecretVault =
    cfg.MERIDIAN_MODE === 'local' && cfg.MERIDIAN_STATE_DIR
      ? new LocalFileVault(join(cfg.MERIDIAN_STATE_DIR, 'secrets'))
      : new SecretsManagerVault((t) => clients.secretsFor(t), cfg.SECRETS_PREFIX);
  container = {
    table,
    clients,
    store: new DynamoTenancyStore(table),
    directory: new CognitoDirectory(cognitoClient(), cfg.USER_POOL_ID),
    vault,
  };
  return container;
}
