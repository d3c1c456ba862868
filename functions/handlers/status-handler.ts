import type { EventBridgeEvent } from 'aws-lambda';
import { STATUS_HANDLER_SETTINGS, statusHandlerWiring } from '#adapters/wiring/status-handler.ts';
import { recordStatus } from '#core/executions/status.ts';
import { config } from '#shared/config.ts';
import { annotate, logger, metrics, tracedHandler } from '#shared/observability.ts';
import { tenantOfStateMachine } from '#shared/resource-names.ts';

config(STATUS_HANDLER_SETTINGS);

/** The `detail` of a Step Functions "Execution Status Change" event. */
export interface ExecutionStatusDetail {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  readonly output?: string | null;
  readonly error?: string | null;
  readonly cause?: string | null;
  readonly stopDate?: number | null;
  /** How many times the execution had been redriven when this run ended. */
  readonly redriveCount?: number | null;
}

/**
 * Driven by an EventBridge rule on Step Functions status changes (and called the same way by the
 * local runtime): writes the execution's final status, output or error.
 */
export const handler = tracedHandler(
  'status-handler',
  async (
    event: EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusDetail>,
  ): Promise<void> => {
    const detail = event.detail;
    if (detail.status === 'RUNNING' || detail.status === 'PENDING_REDRIVE') return;
    const tenantId = tenantOfStateMachine(detail.stateMachineArn);
    if (!tenantId) {
      logger.warn('Status change of a state machine Meridian does not own', {
        stateMachineArn: detail.stateMachineArn,
      });
      return;
    }
    annotate({ tenantId, executionId: detail.name });
    // Finished: its run slot goes back to the tenant's concurrency bulkhead (before the status shows,
    // so a caller who saw it finish can start the next one at once), unless the event is a late one
    // of a run before a redrive, whose slot the redriven run now holds.
    const release = async () => {
      await statusHandlerWiring().slots?.release(tenantId, detail.name);
    };
    const moved = await recordStatus(
      statusHandlerWiring(),
      {
        tenantId,
        executionId: detail.name,
        status: detail.status,
        ...(detail.output ? { output: detail.output } : {}),
        ...(detail.error ? { error: detail.error } : {}),
        ...(detail.cause ? { cause: detail.cause } : {}),
        at: new Date(detail.stopDate ?? Date.now()).toISOString(),
        ...(typeof detail.redriveCount === 'number' ? { redriveCount: detail.redriveCount } : {}),
      },
      release,
    );
    metrics.addMetric(`Execution${detail.status}`, 'Count', 1);
    metrics.publishStoredMetrics();
    logger.info('Execution status recorded', {
      tenantId,
      executionId: detail.name,
      status: detail.status,
      moved,
    });
  },
);
