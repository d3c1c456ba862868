import type { ExecutionDeps } from '#core/executions/deps.ts';
import { config, core, notifications, runCaps } from '#shared/config.ts';
import { awsQueueTransport } from '../notifications/aws-queue-transport.ts';
import { notInThisFunction, tableOnly } from './base.ts';
import { notifyingExecutions } from './notifying-executions.ts';

/** The approval handler's settings. */
export const APPROVAL_HANDLER_SETTINGS = [core, runCaps, notifications] as const;

let wired: ExecutionDeps | undefined;

/**
 * The approval handler's composition root: it records a pending approval and raises its
 * notification; it starts, stops and stores nothing else.
 */
export function approvalHandlerWiring(): ExecutionDeps {
  if (wired) return wired;
  const cfg = config(APPROVAL_HANDLER_SETTINGS);
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
