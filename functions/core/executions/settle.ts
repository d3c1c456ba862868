import { executionExpiry } from '../tenancy/retention.ts';
import type { ExecutionDeps } from './deps.ts';
import { type Execution, monthOf } from './model.ts';

/**
 * The end of an execution gives its unspent reservation back to the month (settlementOf in
 * budget.ts), once: by whoever moved it to a final status. A step still charged after that (one
 * running on after a cancellation) commits its whole cost and gives nothing back.
 */
export async function releaseReservation(
  deps: Pick<ExecutionDeps, 'executions'>,
  tenantId: string,
  execution: Execution,
): Promise<void> {
  // This run reserved nothing (no hard-stop budget; after a redrive its reservation starts at the
  // cost so far), or it is settled already: no I/O at all.
  const reserved = (execution.reservedMicros ?? 0) - (execution.reserveBaseMicros ?? 0);
  if (reserved === 0 || execution.reservationSettled) return;
  await deps.executions.settleReservation(
    tenantId,
    execution.executionId,
    monthOf(execution.startedAt),
    execution.redriveCount ?? 0,
  );
}

/**
 * Retention: once an execution ended (its usage is already in the month's counters, which never
 * expire), its record, steps and artifacts get their expiry from the retention it started with.
 */
export async function expireWhenEnded(
  deps: Pick<ExecutionDeps, 'executions' | 'artifacts'>,
  tenantId: string,
  execution: Execution,
  endedAt: string,
): Promise<void> {
  const days = execution.retentionDays;
  const expiresAt = executionExpiry(endedAt, days);
  if (days === undefined || expiresAt === undefined) return;
  await deps.executions.expire?.(tenantId, execution.executionId, expiresAt);
  await deps.artifacts.expire?.(tenantId, `executions/${execution.executionId}/`, days);
}
