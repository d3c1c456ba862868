import type { ExecutionDeps } from '#core/executions/deps.ts';
import { config } from '#shared/config.ts';
import { FUNCTION_SETTINGS } from '#shared/settings.ts';
import { dynamoTenancyStore } from '../dynamo/tenancy-store.ts';
import { awsNotificationTransport } from '../notifications/aws-transport.ts';
import { localVaultOnly, notInThisFunction, tableOnly } from './base.ts';
import { executionsOf } from './executions.ts';
import { notificationsOf } from './notifications.ts';

let wired: ExecutionDeps | undefined;

/**
 * The approval handler's composition root: it records a pending approval and raises its
 * notification; it starts, stops and stores nothing else.
 */
export function approvalHandlerWiring(): ExecutionDeps {
  if (wired) return wired;
  const cfg = config(FUNCTION_SETTINGS.approvalHandler);
  const { clients, table } = tableOnly(cfg);
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
    artifacts: notInThisFunction('artifact store'),
    notify,
  });
  return wired;
}
