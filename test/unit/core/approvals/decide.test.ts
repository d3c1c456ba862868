import { describe, expect, it, vi } from 'vitest';
import { type ApprovalDeps, decideApproval } from '#core/approvals/decide.ts';
import type { Approval } from '#core/approvals/model.ts';
import { NotFoundError } from '#core/errors.ts';
import type { TenantPrincipal } from '#core/principal.ts';

/** One entry point decides every approval: the kind it holds picks the rules, not the route. */
const T = 'tabcdefghijklmnop';
const meta = { requestId: 'r', sourceIp: '127.0.0.1', userAgent: 'vitest', now: '2026-11-22T00:00:00.000Z' };
const approver: TenantPrincipal = {
  kind: 'tenant',
  tenantId: T,
  principalId: 'user-2',
  principalType: 'user',
  roles: ['operator'],
  permissions: new Set(['approvals:decide']),
};

function approval(kind: Approval['kind']): Approval {
  return {
    approvalId: 'pabcdefghijklmnop',
    kind,
    status: 'pending',
    workflowId: 'wabcdefghijklmnop',
    ...(kind === 'step' ? { executionId: 'xabcdefghijklmnop', stepId: 'review' } : {}),
    version: 2,
    environment: 'prod',
    requestedBy: 'user-1',
    createdAt: meta.now,
  };
}

function fixture(stored: Approval | undefined) {
  const decide = vi.fn(async () => undefined);
  // Approvals live in their tenant: another tenant's id finds nothing.
  const approvals = {
    get: vi.fn(async (tenantId: string) => (tenantId === approver.tenantId ? stored : undefined)),
    decide,
    taskToken: vi.fn(async () => undefined),
  };
  const executions = { get: vi.fn(async () => ({ status: 'RUNNING' })) };
  const deps = {
    approvals,
    executions: { approvals, executions },
    workflows: { approvals },
  } as unknown as ApprovalDeps;
  return { deps, decide, executions };
}

describe('decideApproval', () => {
  it('answers 404 for an approval the tenant does not have', async () => {
    // Prepare
    const f = fixture(undefined);
    // Act
    const decided = decideApproval(f.deps, { principal: approver, meta }, 'pnope', { decision: 'approve' });
    // Assess
    await expect(decided).rejects.toThrow(NotFoundError);
    await expect(decided).rejects.toThrow('No approval pnope.');
  });

  it("answers 404 for another tenant's approval, reading only the caller's tenant", async () => {
    // Prepare: the approval exists, in the approver's tenant; the caller is of another tenant
    const f = fixture(approval('promotion'));
    const stranger = { ...approver, tenantId: 'tzzzzzzzzzzzzzzzz' };
    // Act
    const decided = decideApproval(f.deps, { principal: stranger, meta }, 'pabc', { decision: 'approve' });
    // Assess
    await expect(decided).rejects.toThrow(NotFoundError);
    expect(f.decide).not.toHaveBeenCalled();
  });

  it('decides a promotion by the promotion rules (audited as promotion.reject)', async () => {
    // Prepare
    const f = fixture(approval('promotion'));
    // Act
    const decided = await decideApproval(f.deps, { principal: approver, meta }, 'pabcdefghijklmnop', {
      decision: 'reject',
    });
    // Assess
    expect(decided.status).toBe('rejected');
    expect(f.decide).toHaveBeenCalledWith(
      T,
      expect.objectContaining({ status: 'rejected' }),
      expect.objectContaining({ draft: expect.objectContaining({ action: 'promotion.reject' }) }),
    );
    expect(f.executions.get).not.toHaveBeenCalled();
  });

  it('decides a step approval by the step rules (its execution must still wait)', async () => {
    // Prepare
    const f = fixture(approval('step'));
    // Act
    const decided = decideApproval(f.deps, { principal: approver, meta }, 'pabcdefghijklmnop', {
      decision: 'approve',
    });
    // Assess
    await expect(decided).rejects.toThrow('The execution is no longer waiting for this approval.');
    expect(f.executions.get).toHaveBeenCalledWith(T, 'xabcdefghijklmnop');
    expect(f.decide).not.toHaveBeenCalled();
  });
});
