import { ConflictError, ForbiddenError } from '../errors.ts';
import type { ExecutionDeps } from '../executions/deps.ts';
import type { Execution, RunState } from '../executions/model.ts';
import { derivedId } from '../ids.ts';
import { actorsOf } from '../principal.ts';
import { audited, type Caller } from '../tenancy/context.ts';
import type { Approval } from './model.ts';

/** What step approvals need: the execution they hold and the engine that resumes or fails it. */
export type StepApprovalDeps = Pick<ExecutionDeps, 'executions' | 'approvals' | 'engine' | 'notify' | 'now'>;

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
export async function requestStepApproval(
  deps: StepApprovalDeps,
  request: ApprovalRequest,
): Promise<Approval> {
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
  deps: StepApprovalDeps,
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

/**
 * Closes the approval an execution waited for when the execution ends without a decision: cancelled
 * through the API, or ended by the engine (`expired` when the wait timed out). The system closes it
 * when no caller did.
 */
export async function closePendingApproval(
  deps: Pick<StepApprovalDeps, 'executions' | 'approvals' | 'now'>,
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
