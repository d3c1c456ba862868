import { executionExpiry } from '../tenancy/retention.ts';
import { releaseOf } from './budget.ts';
import type { ExecutionDeps } from './deps.ts';
import { type Execution, monthOf } from './model.ts';

/**
 * The end of an execution gives its unspent reservation back to the month. Called once, by whoever
 * moved it to a final status; a step still settling after a cancellation counts its overrun against
 * the reservation as it stood.
 */
export async function releaseReservation(
  deps: Pick<ExecutionDeps, 'executions'>,
  tenantId: string,
  execution: Execution,
): Promise<void> {
  const micros = releaseOf(execution.reservedMicros ?? 0, execution.costMicros);
  if (micros > 0) await deps.executions.release(tenantId, monthOf(execution.startedAt), micros, 0);
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
