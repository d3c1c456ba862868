import { closePendingApproval } from '../approvals/steps.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { audited, type Caller } from '../tenancy/context.ts';
import type { ExecutionDeps } from './deps.ts';
import { FINAL_STATUSES } from './model.ts';
import { type ExecutionView, getExecution } from './queries.ts';
import { expireWhenEnded, releaseReservation } from './settle.ts';

/** Stops a running or waiting execution; its pending approval can no longer resume it. */
export async function cancelExecution(
  deps: ExecutionDeps,
  caller: Caller,
  executionId: string,
): Promise<ExecutionView> {
  const tenantId = caller.principal.tenantId;
  const execution = await deps.executions.get(tenantId, executionId);
  if (!execution) throw new NotFoundError(`No execution ${executionId}.`);
  if (FINAL_STATUSES.has(execution.status)) {
    throw new ConflictError(`Execution ${executionId} is already ${execution.status}.`);
  }
  const moved = await deps.executions.transition(
    tenantId,
    executionId,
    ['RUNNING', 'WAITING_APPROVAL'],
    'CANCELLED',
    {
      endedAt: caller.meta.now,
      error: { error: 'Execution.Cancelled', cause: `Cancelled by ${caller.principal.principalId}` },
    },
    audited(caller, {
      action: 'execution.cancel',
      resourceType: 'execution',
      resourceId: executionId,
      before: { status: execution.status },
      after: { status: 'CANCELLED' },
    }),
  );
  if (!moved) throw new ConflictError(`Execution ${executionId} finished meanwhile.`);
  // Cancelled counts as finished for the bulkhead now, not when the engine's stop event arrives.
  await deps.slots?.release(tenantId, executionId);
  await releaseReservation(deps, tenantId, execution);
  if (execution.engineArn) {
    await deps.engine.stop({
      tenantId,
      engineArn: execution.engineArn,
      error: 'Execution.Cancelled',
      cause: 'Cancelled through the API',
    });
  }
  await expireWhenEnded(deps, tenantId, execution, caller.meta.now);
  await closePendingApproval(deps, tenantId, execution, 'cancelled', caller);
  return getExecution(deps, tenantId, executionId);
}
