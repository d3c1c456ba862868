import type { ExecutionDeps } from '#core/executions/deps.ts';
import { artifacts, config, core, notifications, runCaps } from '#shared/config.ts';
import { awsQueueTransport } from '../notifications/aws-queue-transport.ts';
import { artifactsOf, notInThisFunction, tableOnly } from './base.ts';
import { notifyingExecutions } from './notifying-executions.ts';

/** The status handler's settings. */
export const STATUS_HANDLER_SETTINGS = [core, runCaps, artifacts, notifications] as const;

let wired: ExecutionDeps | undefined;

/**
 * The status handler's composition root: it records final statuses, releases run slots, tags an
 * ended execution's artifacts for retention and raises failure notifications; it runs no execution.
 */
export function statusHandlerWiring(): ExecutionDeps {
  if (wired) return wired;
  const cfg = config(STATUS_HANDLER_SETTINGS);
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
