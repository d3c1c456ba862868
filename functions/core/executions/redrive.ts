import { ConflictError, NotFoundError, TenantSuspendedError } from '../errors.ts';
import { acquireRunSlot } from '../governance/bulkhead.ts';
import { derivedId } from '../ids.ts';
import { audited, type Caller } from '../tenancy/context.ts';
import { budgetExceeded, maxCommitmentFor, reservationOf } from './budget.ts';
import type { ExecutionDeps } from './deps.ts';
import { type Execution, type ExecutionStatus, monthOf, type RedriveRecord } from './model.ts';
import { releaseReservation } from './settle.ts';

/**
 * Redrives per execution. Step Functions allows 1,000; a workflow that fails ten times over needs a
 * fix and a new start, not an eleventh resume (and each redrive holds a run slot and a reservation).
 */
export const MAX_REDRIVES = 10;

/** Step Functions redrives only executions that ended within the last 14 days: so do we, everywhere. */
export const REDRIVE_WINDOW_MS = 14 * 24 * 60 * 60 * 1000;

/** Statuses a redrive resumes from. */
export const REDRIVABLE: readonly ExecutionStatus[] = ['FAILED', 'TIMED_OUT'];

/** Result of a redrive: the execution, which redrive it runs, and whether this request made it. */
export interface RedriveResult {
  readonly execution: Execution;
  readonly redriveCount: number;
  readonly created: boolean;
}

/**
 * Resumes a FAILED or TIMED_OUT execution from the step that did not finish: Step Functions'
 * RedriveExecution on AWS, the local runtime's resume locally. Steps that succeeded are not run
 * again; the failed step's record counts its attempts on (see step-runner.ts).
 *
 * Idempotent two ways: a request with an `Idempotency-Key` already used for this execution returns
 * the redrive it made, whatever happened since; and a redrive asked for while an earlier one still
 * runs returns that one rather than a 409. Concurrent requests race on one conditional write.
 *
 * Governance as for a start: the tenant must be active, a hard-stop budget must fit another
 * reservation (402), and the run takes a slot of the concurrency bulkhead (429). A redrive is not
 * another execution of the month, so the monthly execution quota does not count it.
 */
export async function redriveExecution(
  deps: ExecutionDeps,
  caller: Caller,
  executionId: string,
  idempotencyKey: string | undefined,
): Promise<RedriveResult> {
  const tenantId = caller.principal.tenantId;
  const redriveId = idempotencyKey
    ? derivedId('r', `${tenantId}|${executionId}|${idempotencyKey}`)
    : undefined;
  const [execution, prior] = await Promise.all([
    deps.executions.get(tenantId, executionId),
    redriveId ? deps.executions.getRedrive(tenantId, executionId, redriveId) : undefined,
  ]);
  if (!execution) throw new NotFoundError(`No execution ${executionId}.`);
  if (prior) return { execution, redriveCount: prior.redriveCount, created: false };
  const count = execution.redriveCount ?? 0;
  if (count > 0 && (execution.status === 'RUNNING' || execution.status === 'WAITING_APPROVAL')) {
    return { execution, redriveCount: count, created: false };
  }
  refuseUnredrivable(execution, Date.parse(caller.meta.now));

  const [tenant, budget] = await Promise.all([
    deps.tenancy.getTenant(tenantId),
    deps.budgets.getBudget(tenantId),
  ]);
  if (tenant?.status !== 'active') {
    throw new TenantSuspendedError('This tenant is not active; contact your platform operator.');
  }
  // Charges of a redriven run go to the month it started in (a month never splits an execution), so
  // its reservation does too.
  const month = monthOf(execution.startedAt);
  const reserveMicros = reservationOf(budget);
  const maxCommittedMicros = maxCommitmentFor(budget);
  if (budget && maxCommittedMicros !== undefined && maxCommittedMicros < 0) throw budgetExceeded(budget, 0);
  // The run that ended is settled before this one reserves. Its status event normally did that
  // already (then this is one read); one arriving after the redrive's write would find another run
  // and settle nothing, leaving the ended run's leftover committed.
  await releaseReservation(deps, tenantId, execution);
  const refused = await deps.executions.reserveStart(tenantId, month, {
    reserveMicros,
    countsExecution: false,
    ...(maxCommittedMicros !== undefined ? { maxCommittedMicros } : {}),
  });
  if (refused && budget) throw budgetExceeded(budget, refused.committedMicros);
  const giveBack = () => deps.executions.release(tenantId, month, reserveMicros, 0);
  if (deps.slots) {
    try {
      await acquireRunSlot(
        deps.slots,
        tenantId,
        tenant.plan,
        executionId,
        caller.meta.now,
        deps.concurrencyCaps,
      );
    } catch (error) {
      await giveBack().catch(() => undefined);
      throw error;
    }
  }

  const redriveCount = count + 1;
  const record: RedriveRecord | undefined = redriveId
    ? {
        redriveId,
        redriveCount,
        redrivenAt: caller.meta.now,
        redrivenBy: caller.principal.principalId,
      }
    : undefined;
  let moved: boolean;
  try {
    moved = await deps.executions.redrive(
      tenantId,
      executionId,
      {
        previousCount: count,
        redrivenAt: caller.meta.now,
        // The earlier runs' reservation was settled when they ended (their cost stays committed):
        // this run's reservation comes on top of what the execution has spent.
        reservedMicros: execution.costMicros + reserveMicros,
        reserveBaseMicros: execution.costMicros,
        ...(record ? { record } : {}),
      },
      audited(caller, {
        action: 'execution.redrive',
        resourceType: 'execution',
        resourceId: executionId,
        before: { status: execution.status, redriveCount: count },
        after: { status: 'RUNNING', redriveCount },
      }),
    );
  } catch (error) {
    await giveBack().catch(() => undefined);
    await deps.slots?.release(tenantId, executionId);
    throw error;
  }
  if (!moved) {
    // Another request redrove it first: that redrive holds the run slot (claims are per execution),
    // so only this reservation goes back, and the answer is that redrive.
    await giveBack();
    const now = await deps.executions.get(tenantId, executionId);
    if (now && (now.redriveCount ?? 0) > count && !REDRIVABLE.includes(now.status)) {
      return { execution: now, redriveCount: now.redriveCount ?? count + 1, created: false };
    }
    await deps.slots?.release(tenantId, executionId);
    throw new ConflictError(`Execution ${executionId} changed meanwhile; retry.`);
  }
  try {
    if (!execution.engineArn) throw new ConflictError(`Execution ${executionId} never reached the engine.`);
    await deps.engine.redrive({ tenantId, executionId, engineArn: execution.engineArn, redriveCount });
  } catch (error) {
    // The engine refused it: the execution ends as it was (its run settled above, so put back as
    // settled: otherwise a later event or redrive would settle it twice), and the key may be used again.
    await deps.executions.abandonRedrive(
      tenantId,
      executionId,
      { ...execution, reservationSettled: true },
      redriveId,
    );
    await giveBack().catch(() => undefined);
    await deps.slots?.release(tenantId, executionId);
    throw error;
  }
  // Its end gave the record and steps the tenant's retention TTL (still ahead: one past it is refused
  // above): a run that goes on must not be deleted under itself. Its next end sets the TTL again.
  await deps.executions.expire?.(tenantId, executionId, undefined);
  // What this redrive made, not a read after the engine started it: a short run may have ended
  // already, and the answer is the redrive (the execution's own route shows what happened since).
  const { endedAt: _ended, error: _error, output: _output, ...kept } = execution;
  return {
    execution: { ...kept, status: 'RUNNING', redriveCount, redrivenAt: caller.meta.now },
    redriveCount,
    created: true,
  };
}

/** 409 unless the execution may be redriven now. */
function refuseUnredrivable(execution: Execution, now: number): void {
  const id = execution.executionId;
  if (!REDRIVABLE.includes(execution.status)) {
    throw new ConflictError(
      `Execution ${id} is ${execution.status}; only FAILED and TIMED_OUT executions can be redriven.`,
      [{ path: 'status', message: `is ${execution.status}` }],
    );
  }
  if ((execution.redriveCount ?? 0) >= MAX_REDRIVES) {
    throw new ConflictError(
      `Execution ${id} was redriven ${MAX_REDRIVES} times already; fix the workflow and start it again.`,
      [{ path: 'redriveCount', message: `at most ${MAX_REDRIVES}` }],
    );
  }
  // Past the tenant's retention the table may delete it any moment (TTL): it is gone, not redrivable.
  if (
    execution.endedAt &&
    execution.retentionDays !== undefined &&
    now - Date.parse(execution.endedAt) > execution.retentionDays * 86_400_000
  ) {
    throw new ConflictError(`Execution ${id} is past its tenant's retention; start it again instead.`, [
      { path: 'endedAt', message: `more than ${execution.retentionDays} days ago` },
    ]);
  }
  if (execution.endedAt && now - Date.parse(execution.endedAt) > REDRIVE_WINDOW_MS) {
    throw new ConflictError(`Execution ${id} ended more than 14 days ago; start it again instead.`, [
      { path: 'endedAt', message: 'more than 14 days ago' },
    ]);
  }
}
