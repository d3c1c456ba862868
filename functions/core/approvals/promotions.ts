import { ForbiddenError } from '../errors.ts';
import { actorsOf } from '../principal.ts';
import { audited, type Caller } from '../tenancy/context.ts';
import { applyPromotion, type WorkflowDeps } from '../versioning/workflows.ts';
import type { Approval } from './model.ts';

/** Decides a promotion approval: approve applies it (as the approver), reject leaves prod as it was. */
export async function decidePromotion(
  deps: WorkflowDeps,
  caller: Caller,
  approval: Approval,
  decision: { decision: 'approve' | 'reject'; comment?: string | undefined },
): Promise<Approval> {
  const requesters = [approval.requestedBy, approval.requestedFor].filter((r): r is string => Boolean(r));
  if (actorsOf(caller.principal).some((a) => requesters.includes(a))) {
    throw new ForbiddenError('You cannot approve or reject your own promotion request.');
  }
  const decided: Approval = {
    ...approval,
    status: decision.decision === 'approve' ? 'approved' : 'rejected',
    decidedBy: caller.principal.principalId,
    decidedAt: caller.meta.now,
    ...(decision.comment ? { comment: decision.comment } : {}),
  };
  // The decision lands first (exactly once); only then does the alias move.
  await deps.approvals.decide(
    caller.principal.tenantId,
    decided,
    audited(caller, {
      action: `promotion.${decided.status === 'approved' ? 'approve' : 'reject'}`,
      resourceType: 'approval',
      resourceId: approval.approvalId,
      before: approval,
      after: decided,
    }),
  );
  if (decided.status === 'approved' && approval.version !== undefined && approval.environment) {
    await applyPromotion(
      deps,
      caller,
      approval.workflowId,
      approval.version,
      approval.environment,
      approval.approvalId,
    );
  }
  return decided;
}
