import type { Environment } from '../versioning/model.ts';

/** Approval statuses. */
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';

/**
 * A human decision the platform waits for: a workflow step (`step`) or a promotion to prod
 * (`promotion`). Nobody decides their own request unless the workflow allows it.
 */
export interface Approval {
  readonly approvalId: string;
  readonly kind: 'step' | 'promotion';
  readonly status: ApprovalStatus;
  readonly workflowId: string;
  readonly executionId?: string;
  readonly stepId?: string;
  readonly version?: number;
  readonly environment?: Environment;
  readonly requestedBy: string;
  /** When the request came through an API key: the user who created the key. */
  readonly requestedFor?: string;
  readonly message?: string;
  /** Who may decide: role names and user ids; empty means anyone holding `approvals:decide`. */
  readonly approvers?: { readonly roles?: readonly string[]; readonly users?: readonly string[] };
  readonly allowRequesterApproval?: boolean;
  /** Promotions: the secrets the promoted version uses (through its pinned agents and tools). */
  readonly secrets?: readonly string[];
  readonly decidedBy?: string;
  readonly comment?: string;
  readonly createdAt: string;
  readonly decidedAt?: string;
  /** Step approvals: when the wait times out. */
  readonly expiresAt?: string;
}
