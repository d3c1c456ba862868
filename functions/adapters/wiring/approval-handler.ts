import type { ExecutionDeps } from '#core/executions/deps.ts';
import { config } from '#shared/config.ts';
import { FUNCTION_SETTINGS } from '#shared/settings.ts';
import { awsQueueTransport } from '../notifications/aws-queue-transport.ts';
import { notInThisFunction, tableOnly } from './base.ts';
import { notifyingExecutions } from './notifying-executions.ts';

let wired: ExecutionDeps | undefined;

/**
 * The approval handler's composition root: it records a pending approval and raises its
 * notification; it starts, stops and stores nothing else.
 */
export function approvalHandlerWiring(): ExecutionDeps {
  if (wired) return wired;
  const cfg = config(FUNCTION_SETTINGS.approvalHandler);
  const { clients, table } = tableOnly(cfg);
  wired = notifyingExecutions(cfg, {
    table,
    clients,
    engine: notInThisFunction('execution engine'),
    artifacts: notInThisFunction('artifact store'),
    awsTransport: awsQueueTransport,
  });
  return wired;
}
