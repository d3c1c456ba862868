import type { Approval } from '../approvals/model.ts';
import type { ApprovalStore } from '../approvals/ports.ts';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import type { RunSlots } from '../governance/bulkhead.ts';
import { derivedId } from '../ids.ts';
import type { Notify } from '../notifications/model.ts';
import { actorsOf } from '../principal.ts';
import { audited, type Caller } from '../tenancy/context.ts';
import type { Page, PageRequest, Plan } from '../tenancy/model.ts';
import type { TenancyStore } from '../tenancy/ports.ts';
import { executionExpiry } from '../tenancy/retention.ts';
import type { Environment } from '../versioning/model.ts';
import type { DefinitionStore } from '../versioning/ports.ts';
import { markedArtifact, readArtifact } from './artifacts.ts';
import { type BudgetStore, releaseOf } from './budget.ts';
import {
  type Execution,
  type ExecutionStatus,
  FINAL_STATUSES,
  monthOf,
  type RunState,
  type StepRecord,
  usdOf,
} from './model.ts';
import type { ArtifactStore, ExecutionEngine, ExecutionFilter, ExecutionStore } from './ports.ts';

/** What execution use cases need. */
export interface ExecutionDeps {
  readonly executions: ExecutionStore;
  readonly definitions: DefinitionStore;
  readonly approvals: ApprovalStore;
  readonly tenancy: Pick<TenancyStore, 'getTenant' | 'getUser'>;
  readonly engine: ExecutionEngine;
  readonly artifacts: ArtifactStore;
  readonly budgets: BudgetStore;
  /** The concurrency bulkhead's run slots; without it, running executions are not capped. */
  readonly slots?: RunSlots;
  /** Running executions allowed per plan; without it, the defaults of the bulkhead module. */
  readonly concurrencyCaps?: Readonly<Record<Plan, number>>;
  /** Raises notification events (approval pending, execution failed or timed out); never throws. */
  readonly notify?: Notify;
  readonly now: () => Date;
}

/** The API's view of an execution: money as a decimal string, large outputs resolved. */
export interface ExecutionView {
  readonly executionId: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly environment: Environment;
  readonly status: ExecutionStatus;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: { error: string; cause: string };
  readonly usage: { inputTokens: number; outputTokens: number };
  readonly costUsd: string;
  readonly costMicros: number;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly startedBy: string;
  readonly steps?: readonly StepView[];
}

/** A step as the API shows it. */
export type StepView = Omit<StepRecord, 'costMicros' | 'outputRef'> & { costUsd?: string };

/**
 * The content of a step's output for the API: from the artifact store when the platform's own record
 * says it stored it there (`outputRef`), never from a reference found in the output itself.
 */
async function stepOutput(deps: ExecutionDeps, tenantId: string, step: StepRecord): Promise<unknown> {
  return step.outputRef ? readArtifact(deps.artifacts, tenantId, step.outputRef) : step.output;
}

/**
 * An execution's output is a step's output or the map of its steps' outputs: a marker at either level
 * resolves only through this execution's own step records.
 */
async function executionOutput(
  deps: ExecutionDeps,
  tenantId: string,
  output: unknown,
  steps: readonly StepRecord[],
): Promise<unknown> {
  const resolve = async (value: unknown): Promise<unknown> => {
    const ref = markedArtifact(value, steps);
    return ref ? readArtifact(deps.artifacts, tenantId, ref) : value;
  };
  if (output === null || typeof output !== 'object' || Array.isArray(output)) return output;
  if (markedArtifact(output, steps)) return resolve(output);
  const entries = await Promise.all(
    Object.entries(output).map(async ([key, value]) => [key, await resolve(value)] as const),
  );
  return Object.fromEntries(entries);
}

function view(execution: Execution): ExecutionView {
  const {
    requestHash: _h,
    engineArn: _a,
    teams: _t,
    pendingApprovalId: _p,
    reservedMicros: _r,
    retentionDays: _d,
    ...rest
  } = execution as Execution & { expiresAt?: unknown };
  delete (rest as { expiresAt?: unknown }).expiresAt;
  // `redriveCount` and `redrivenAt` stay: the API shows how often and when it was redriven.
  return { ...rest, costUsd: usdOf(execution.costMicros) };
}

/** One execution with its steps, outputs, tokens, cost and timings. */
export async function getExecution(
  deps: ExecutionDeps,
  tenantId: string,
  executionId: string,
): Promise<ExecutionView> {
  const execution = await deps.executions.get(tenantId, executionId);
  if (!execution) throw new NotFoundError(`No execution ${executionId}.`);
  const steps = await deps.executions.steps(tenantId, executionId);
  const stepViews: StepView[] = await Promise.all(
    steps.map(async (s) => {
      const { costMicros, outputRef: _r, ...rest } = s;
      return {
        ...rest,
        ...(s.output !== undefined ? { output: await stepOutput(deps, tenantId, s) } : {}),
        ...(costMicros !== undefined ? { costUsd: usdOf(costMicros) } : {}),
      };
    }),
  );
  return {
    ...view(execution),
    ...(execution.output !== undefined
      ? { output: await executionOutput(deps, tenantId, execution.output, steps) }
      : {}),
    steps: stepViews,
  };
}

/** Executions, newest first, filtered by workflow, status and start time. */
export async function listExecutions(
  deps: ExecutionDeps,
  tenantId: string,
  filter: ExecutionFilter,
  page: PageRequest,
): Promise<Page<ExecutionView>> {
  const out = await deps.executions.list(tenantId, filter, page);
  return { ...out, items: out.items.map(view) };
}

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
      engineArn: execution.engineArn,
      error: 'Execution.Cancelled',
      cause: 'Cancelled through the API',
    });
  }
  await expireWhenEnded(deps, tenantId, execution, caller.meta.now);
  await closePendingApproval(deps, tenantId, execution, 'cancelled', caller);
  return getExecution(deps, tenantId, executionId);
}

async function closePendingApproval(
  deps: ExecutionDeps,
  tenantId: string,
  execution: Execution,
  status: 'cancelled' | 'expired',
  caller?: Caller,
): Promise<void> {
  const pendingId = execution.pendingApprovalId;
  if (!pendingId) return;
  const approval = await deps.approvals.get(tenantId, pendingId);
  if (approval?.status !== 'pending') return;
  const now = deps.now().toISOString();
  const closed = await deps.approvals
    .decide(
      tenantId,
      { ...approval, status, decidedAt: now },
      {
        tenantId,
        actor: caller
          ? { id: caller.principal.principalId, type: caller.principal.principalType }
          : { id: 'meridian', type: 'system' },
        meta: caller?.meta ?? { requestId: execution.executionId, sourceIp: '', userAgent: 'meridian', now },
        draft: {
          action: `approval.${status === 'cancelled' ? 'cancel' : 'expire'}`,
          resourceType: 'approval',
          resourceId: pendingId,
          before: approval,
        },
      },
    )
    .then(() => true)
    .catch((error: unknown) => {
      // Decided meanwhile: nothing left to close.
      if (!(error instanceof ConflictError)) throw error;
      return false;
    });
  if (!closed || !approval.stepId) return;
  // The approval step ends with its approval: it must not show WAITING_APPROVAL on a final execution.
  await deps.executions.finishStep(
    tenantId,
    execution.executionId,
    {
      stepId: approval.stepId,
      stepKey: approval.stepId,
      type: 'approval',
      status: status === 'cancelled' ? 'CANCELLED' : 'FAILED',
      attempts: 1,
      startedAt: approval.createdAt,
      endedAt: now,
      ...(status === 'expired'
        ? { error: { error: 'Approval.Expired', cause: 'Nobody decided before the step timed out.' } }
        : {}),
    },
    undefined,
  );
}

/**
 * Retention: once an execution ended (its usage is already in the month's counters, which never
 * expire), its record, steps and artifacts get their expiry from the retention it started with.
 */
async function expireWhenEnded(
  deps: ExecutionDeps,
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

/**
 * The end of an execution gives its unspent reservation back to the month. Called once, by whoever
 * moved it to a final status; a step still settling after a cancellation counts its overrun against
 * the reservation as it stood.
 */
async function releaseReservation(
  deps: ExecutionDeps,
  tenantId: string,
  execution: Execution,
): Promise<void> {
  const micros = releaseOf(execution.reservedMicros ?? 0, execution.costMicros);
  if (micros > 0) await deps.executions.release(tenantId, monthOf(execution.startedAt), micros, 0);
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
  if (moved) await releaseReservation(deps, change.tenantId, execution);
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

/** What the approval task sends: the compiled Payload of an approval step. */
export interface ApprovalRequest {
  readonly taskToken: string;
  readonly stepId: string;
  readonly message?: string;
  readonly approvers?: { readonly roles?: readonly string[]; readonly users?: readonly string[] };
  readonly allowRequesterApproval?: boolean;
  readonly timeoutSeconds?: number;
  readonly context: RunState['context'];
}

/**
 * Records a pending step approval: the token is stored (never shown), the execution waits. Retries of
 * the same task make the same approval (its id derives from the token).
 */
export async function requestStepApproval(deps: ExecutionDeps, request: ApprovalRequest): Promise<Approval> {
  const { tenantId, executionId } = request.context;
  const now = deps.now().toISOString();
  const approvalId = derivedId('p', `${tenantId}|${executionId}|${request.stepId}|${request.taskToken}`);
  const existing = await deps.approvals.get(tenantId, approvalId);
  if (existing) return existing;
  const approval: Approval = {
    approvalId,
    kind: 'step',
    status: 'pending',
    workflowId: request.context.workflowId,
    executionId,
    stepId: request.stepId,
    version: request.context.workflowVersion,
    environment: request.context.environment,
    requestedBy: request.context.startedBy,
    ...(request.context.startedFor ? { requestedFor: request.context.startedFor } : {}),
    ...(request.message ? { message: request.message } : {}),
    approvers: { roles: [...(request.approvers?.roles ?? [])], users: [...(request.approvers?.users ?? [])] },
    allowRequesterApproval: request.allowRequesterApproval ?? false,
    createdAt: now,
    ...(request.timeoutSeconds
      ? { expiresAt: new Date(Date.parse(now) + request.timeoutSeconds * 1000).toISOString() }
      : {}),
  };
  // The execution waits first, then the approval appears: nobody can see an approval and decide it
  // while the execution does not yet wait for it. A retried task finds both steps idempotent.
  await deps.executions.transition(tenantId, executionId, ['RUNNING'], 'WAITING_APPROVAL', {
    pendingApprovalId: approvalId,
  });
  await deps.executions.finishStep(
    tenantId,
    executionId,
    {
      stepId: request.stepId,
      stepKey: request.stepId,
      type: 'approval',
      status: 'WAITING_APPROVAL',
      attempts: 1,
      startedAt: now,
    },
    undefined,
  );
  await deps.approvals.create(
    tenantId,
    approval,
    {
      tenantId,
      actor: { id: 'meridian', type: 'system' },
      meta: { requestId: executionId, sourceIp: '', userAgent: 'meridian-approval-task', now },
      draft: {
        action: 'approval.request',
        resourceType: 'approval',
        resourceId: approvalId,
        after: approval,
      },
    },
    { taskToken: request.taskToken },
  );
  // Only a newly recorded approval gets here (a retried task returned the existing one above).
  await deps.notify?.({
    type: 'approval.pending',
    tenantId,
    at: now,
    approvalId,
    kind: 'step',
    workflowId: approval.workflowId,
    executionId,
    stepId: request.stepId,
    message: approval.message,
    approvers: approval.approvers,
    requestedBy: approval.requestedBy,
    requestedFor: approval.requestedFor,
    allowRequesterApproval: approval.allowRequesterApproval,
  });
  return approval;
}

/**
 * Decides a step approval: approve resumes the execution (SendTaskSuccess), reject fails it
 * (SendTaskFailure). Only approvers the step names may decide, never the person who started the
 * execution unless the workflow allows it, and never once the execution stopped waiting.
 */
export async function decideStepApproval(
  deps: ExecutionDeps,
  caller: Caller,
  approval: Approval,
  decision: { decision: 'approve' | 'reject'; comment?: string | undefined },
): Promise<Approval> {
  const tenantId = caller.principal.tenantId;
  const me = caller.principal;
  const requesters = [approval.requestedBy, approval.requestedFor].filter((r): r is string => Boolean(r));
  if (actorsOf(me).some((a) => requesters.includes(a)) && !approval.allowRequesterApproval) {
    throw new ForbiddenError('You started this execution, so you cannot decide its approval.');
  }
  const roles = approval.approvers?.roles ?? [];
  const users = approval.approvers?.users ?? [];
  if (
    (roles.length > 0 || users.length > 0) &&
    !users.includes(me.principalId) &&
    !roles.some((r) => me.roles.includes(r))
  ) {
    throw new ForbiddenError('You are not one of the approvers this step names.');
  }
  if (approval.status !== 'pending') throw new ConflictError(`This approval is already ${approval.status}.`);
  const execution = approval.executionId
    ? await deps.executions.get(tenantId, approval.executionId)
    : undefined;
  if (execution?.status !== 'WAITING_APPROVAL') {
    throw new ConflictError('The execution is no longer waiting for this approval.');
  }
  const token = await deps.approvals.taskToken(tenantId, approval.approvalId);
  if (!token) throw new ConflictError('The execution is no longer waiting for this approval.');
  const decided: Approval = {
    ...approval,
    status: decision.decision === 'approve' ? 'approved' : 'rejected',
    decidedBy: me.principalId,
    decidedAt: caller.meta.now,
    ...(decision.comment ? { comment: decision.comment } : {}),
  };
  await deps.approvals.decide(
    tenantId,
    decided,
    audited(caller, {
      action: `approval.${decision.decision}`,
      resourceType: 'approval',
      resourceId: approval.approvalId,
      before: approval,
      after: decided,
    }),
  );
  // The decision is recorded first (exactly once), then the engine is told, then the records follow.
  const stepBase = {
    stepId: approval.stepId ?? '',
    stepKey: approval.stepId ?? '',
    type: 'approval',
    attempts: 1,
    startedAt: approval.createdAt,
    endedAt: caller.meta.now,
  };
  if (decided.status === 'approved') {
    const output = { decision: 'approve', decidedBy: me.principalId, comment: decision.comment ?? '' };
    // The approval step's ResultPath is `$.steps.<id>`: its result is `{output}` like every step's.
    await deps.engine.sendTaskSuccess(token, { output });
    await deps.executions.transition(tenantId, execution.executionId, ['WAITING_APPROVAL'], 'RUNNING', {
      pendingApprovalId: null,
    });
    await deps.executions.finishStep(
      tenantId,
      execution.executionId,
      { ...stepBase, status: 'SUCCEEDED', output },
      undefined,
    );
  } else {
    const cause = decision.comment ?? `Rejected by ${me.principalId}`;
    await deps.engine.sendTaskFailure(token, 'Approval.Rejected', cause);
    await deps.executions.finishStep(
      tenantId,
      execution.executionId,
      { ...stepBase, status: 'FAILED', error: { error: 'Approval.Rejected', cause } },
      undefined,
    );
  }
  return decided;
}
