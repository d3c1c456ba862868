import { NotFoundError } from '../errors.ts';
import type { Page, PageRequest } from '../tenancy/model.ts';
import type { Approval, ApprovalStatus } from './model.ts';
import type { ApprovalStore } from './ports.ts';

/** Approvals (workflow steps and promotions) in one status, newest first. */
export async function listApprovals(
  deps: { readonly approvals: ApprovalStore },
  tenantId: string,
  status: ApprovalStatus,
  page: PageRequest,
): Promise<Page<Approval>> {
  return deps.approvals.listByStatus(tenantId, status, page);
}

/** One approval of the tenant, or 404. */
export async function getApproval(
  deps: { readonly approvals: ApprovalStore },
  tenantId: string,
  approvalId: string,
): Promise<Approval> {
  const approval = await deps.approvals.get(tenantId, approvalId);
  if (!approval) throw new NotFoundError(`No approval ${approvalId}.`);
  return approval;
}
