import { closePendingApproval } from '../approvals/steps.ts';
import type { ExecutionDeps } from './deps.ts';
import { type ExecutionStatus, FINAL_STATUSES } from './model.ts';
import { expireWhenEnded, releaseReservation } from './settle.ts';

/** A Step Functions status change, as EventBridge (AWS) or the local runtime reports it. */
export interface StatusChange {
  readonly tenantId: string;
  readonly executionId: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  /** The final state as JSON text (SUCCEEDED). */
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly at: string;
  /** Which run of the execution ended (0: the first; Step Functions' `redriveCount`). */
  readonly redriveCount?: number;
}

/** The outputs of the final state's steps: what `GET /executions/{id}` shows as `output`. */
function outputsOf(finalState: unknown): Record<string, unknown> {
  const steps = (finalState as { steps?: Record<string, { output?: unknown }> } | null)?.steps ?? {};
  return Object.fromEntries(
    Object.entries(steps)
      .filter(([, s]) => s && typeof s === 'object' && 'output' in s)
      .map(([id, s]) => [id, s.output]),
  );
}

/**
 * Writes an execution's final status. Only RUNNING or WAITING_APPROVAL executions move: a late or
 * repeated event (or one for an execution cancelled through the API) changes nothing.
 */
export async function recordStatus(
  deps: ExecutionDeps,
  change: StatusChange,
  /** Runs once the event is known to be about the latest run, before the status is written. */
  beforeWrite?: () => Promise<void>,
): Promise<boolean> {
  const execution = await deps.executions.get(change.tenantId, change.executionId);
  if (!execution) return false;
  // A late event of a run before the latest redrive must not end the run that resumed it (nor free
  // its run slot). An event that does not say which run it is about is taken as the latest.
  if (change.redriveCount !== undefined && change.redriveCount < (execution.redriveCount ?? 0)) return false;
  await beforeWrite?.();
  let status: ExecutionStatus;
  let fields: { output?: unknown; error?: { error: string; cause: string }; endedAt: string } = {
    endedAt: change.at,
  };
  if (change.status === 'SUCCEEDED') {
    status = 'SUCCEEDED';
    let parsed: unknown;
    try {
      parsed = change.output ? (JSON.parse(change.output) as unknown) : {};
    } catch {
      parsed = {};
    }
    fields = { ...fields, output: outputsOf(parsed) };
  } else if (change.status === 'ABORTED') {
    status = 'CANCELLED';
  } else {
    const timedOut =
      change.status === 'TIMED_OUT' ||
      (change.error === 'States.Timeout' && execution.status === 'WAITING_APPROVAL');
    status = timedOut ? 'TIMED_OUT' : 'FAILED';
    fields = {
      ...fields,
      error: {
        error: change.error ?? (timedOut ? 'States.Timeout' : 'States.Runtime'),
        cause: (change.cause ?? '').slice(0, 4000),
      },
    };
  }
  const moved = await deps.executions.transition(
    change.tenantId,
    change.executionId,
    ['RUNNING', 'WAITING_APPROVAL'],
    status,
    fields,
  );
  // Settling is once per run whoever asks (the mark), so an event handled again settles a run whose
  // first handling stopped after the status moved and before its settlement.
  if (moved || FINAL_STATUSES.has(execution.status))
    await releaseReservation(deps, change.tenantId, execution);
  if (moved) await expireWhenEnded(deps, change.tenantId, execution, change.at);
  if (moved)
    await closePendingApproval(
      deps,
      change.tenantId,
      execution,
      status === 'TIMED_OUT' ? 'expired' : 'cancelled',
    );
  if (moved && (status === 'FAILED' || status === 'TIMED_OUT') && fields.error) {
    await deps.notify?.({
      type: status === 'FAILED' ? 'execution.failed' : 'execution.timed_out',
      tenantId: change.tenantId,
      at: change.at,
      executionId: change.executionId,
      workflowId: execution.workflowId,
      error: fields.error.error,
      cause: fields.error.cause,
    });
  }
  return moved;
}
