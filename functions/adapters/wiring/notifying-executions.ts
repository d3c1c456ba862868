import type { ExecutionDeps } from '#core/executions/deps.ts';
import { DynamoExecutionStore } from '../dynamo/execution-store.ts';
import type { Table, TenantClients } from '../dynamo/table.ts';
import { dynamoTenancyStore } from '../dynamo/tenancy-store.ts';
import { type LocalSettings, localVaultOnly } from './base.ts';
import { type ExecutionParts, type ExecutionSettings, executionsOf } from './executions.ts';
import { type NotificationParts, type NotificationSettings, notificationsOf } from './notifications.ts';

/**
 * The execution use cases of a workflow function (approval, status) with the notifier
 * they raise events through: the tenancy store, a vault only the local platform has, and the
 * notification transport the function's role allows.
 */
export function notifyingExecutions(
  cfg: ExecutionSettings & NotificationSettings & LocalSettings,
  parts: Pick<ExecutionParts, 'engine' | 'artifacts'> & {
    readonly table: Table;
    readonly clients: TenantClients;
    readonly awsTransport: NotificationParts['awsTransport'];
  },
): ExecutionDeps {
  const { table, clients, awsTransport, engine, artifacts } = parts;
  const store = dynamoTenancyStore(table);
  const { notify } = notificationsOf(cfg, {
    table,
    vault: localVaultOnly(cfg),
    tenancy: store,
    awsTransport,
  });
  const executions = new DynamoExecutionStore(table);
  return executionsOf(cfg, { table, clients, executions, tenancy: store, engine, artifacts, notify });
}
