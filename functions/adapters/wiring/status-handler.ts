import type { ExecutionDeps } from '#core/executions/deps.ts';
import { config } from '#shared/config.ts';
import { FUNCTION_SETTINGS } from '#shared/settings.ts';
import { awsQueueTransport } from '../notifications/aws-queue-transport.ts';
import { artifactsOf, notInThisFunction, tableOnly } from './base.ts';
import { notifyingExecutions } from './notifying-executions.ts';

let wired: ExecutionDeps | undefined;

/**
 * The status handler's composition root: it records final statuses, releases run slots, tags an
 * ended execution's artifacts for retention and raises failure notifications; it runs no execution.
 */
export function statusHandlerWiring(): ExecutionDeps {
  if (wired) return wired;
  const cfg = config(FUNCTION_SETTINGS.statusHandler);
  const { clients, table } = tableOnly(cfg);
  wired = notifyingExecutions(cfg, {
    table,
    clients,
    engine: notInThisFunction('execution engine'),
    artifacts: artifactsOf(cfg, clients),
    awsTransport: awsQueueTransport,
  });
  return wired;
}
