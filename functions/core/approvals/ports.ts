import type { AuditContext } from '../audit/audit.ts';
import type { Page, PageRequest } from '../tenancy/model.ts';
import type { Approval, ApprovalStatus } from './model.ts';

/** Persistence of approvals; listed by status through an index, newest first. */
export interface ApprovalStore {
  create(
    tenantId: string,
    approval: Approval,
    audit: AuditContext,
    secret?: { taskToken: string },
  ): Promise<void>;
  get(tenantId: string, approvalId: string): Promise<Approval | undefined>;
  /** The task token of a step approval (never returned by the API). */
  taskToken(tenantId: string, approvalId: string): Promise<string | undefined>;
  listPending(tenantId: string, page: PageRequest): Promise<Page<Approval>>;
  /** Approvals in one status, newest first. */
  listByStatus(tenantId: string, status: ApprovalStatus, page: PageRequest): Promise<Page<Approval>>;
  /** Moves a pending approval to its decided state; refused (ConflictError) unless it is still pending. */
  decide(tenantId: string, next: Approval, audit: AuditContext): Promise<void>;
}
