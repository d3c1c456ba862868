import type { ExecutionDeps } from '#core/executions/deps.ts';
import { config } from '#shared/config.ts';
import { FUNCTION_SETTINGS } from '#shared/settings.ts';
import { dynamoTenancyStore } from '../dynamo/tenancy-store.ts';
import { awsNotificationTransport } from '../notifications/aws-transport.ts';
import { artifactsOf, localVaultOnly, notInThisFunction, tableAndStorage } from './base.ts';
import { executionsOf } from './executions.ts';
import { notificationsOf } from './notifications.ts';

let wired: ExecutionDeps | undefined;

/**
 * The status handler's composition root: it records final statuses, releases run slots, tags an
 * ended execution's artifacts for retention and raises failure notifications; it runs no execution.
 */
export function statusHandlerWiring(): ExecutionDeps {
  if (wired) return wired;
  const cfg = config(FUNCTION_SETTINGS.statusHandler);
  const { clients, table } = tableAndStorage(cfg);
  const store = dynamoTenancyStore(table);
  const { notify } = notificationsOf(cfg, {
    table,
    vault: localVaultOnly(cfg),
    tenancy: store,
    awsTransport: awsNotificationTransport,
  });
  wired = executionsOf(cfg, {
    table,
    clients,
    tenancy: store,
    engine: notInThisFunction('execution engine'),
    artifacts: artifactsOf(cfg, clients),
    notify,
  });
  return wired;
}
