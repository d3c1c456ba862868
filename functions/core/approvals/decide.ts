import type { Caller } from '../tenancy/context.ts';
import type { WorkflowDeps } from '../versioning/workflows.ts';
import type { Approval } from './model.ts';
import type { ApprovalStore } from './ports.ts';
import { decidePromotion } from './promotions.ts';
import { getApproval } from './queries.ts';
import { decideStepApproval, type StepApprovalDeps } from './steps.ts';

/** What deciding any approval needs. */
export interface ApprovalDeps {
  readonly approvals: ApprovalStore;
  /** Step approvals resume or fail their execution. */
  readonly executions: StepApprovalDeps;
  /** Promotion approvals move a workflow's environment. */
  readonly workflows: WorkflowDeps;
}

/** An approver's answer. */
export interface Decision {
  readonly decision: 'approve' | 'reject';
  readonly comment?: string | undefined;
}

/**
 * Approves or rejects an approval of the caller's tenant, whatever it holds: a waiting execution
 * step or a promotion to prod. Nobody decides their own request (see each kind's rules).
 */
export async function decideApproval(
  deps: ApprovalDeps,
  caller: Caller,
  approvalId: string,
  decision: Decision,
): Promise<Approval> {
  const approval = await getApproval(deps, caller.principal.tenantId, approvalId);
  return approval.kind === 'promotion'
    ? decidePromotion(deps.workflows, caller, approval, decision)
    : decideStepApproval(deps.executions, caller, approval, decision);
}
