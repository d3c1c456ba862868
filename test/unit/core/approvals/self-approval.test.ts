import { describe, expect, it, vi } from 'vitest';
import type { Approval } from '#core/approvals/model.ts';
import { decidePromotion } from '#core/approvals/promotions.ts';
import { ForbiddenError } from '#core/errors.ts';
import type { TenantPrincipal } from '#core/principal.ts';
import type { WorkflowDeps } from '#core/versioning/workflows.ts';
import { principalFromContext } from '#shared/auth-context.ts';

const T = 'tabcdefghijklmnop';
const meta = { requestId: 'r', sourceIp: '127.0.0.1', userAgent: 'vitest', now: '2026-11-22T00:00:00.000Z' };

function principal(overrides: Partial<TenantPrincipal>): TenantPrincipal {
  return {
    kind: 'tenant',
    tenantId: T,
    principalId: 'user-2',
    principalType: 'user',
    roles: ['operator'],
    permissions: new Set(['approvals:decide']),
    ...overrides,
  };
}

function promotion(overrides: Partial<Approval> = {}): Approval {
  return {
    approvalId: 'pabcdefghijklmnop',
    kind: 'promotion',
    status: 'pending',
    workflowId: 'wabcdefghijklmnop',
    version: 2,
    environment: 'prod',
    requestedBy: 'user-1',
    createdAt: meta.now,
    ...overrides,
  };
}

function deps() {
  const decide = vi.fn(async () => undefined);
  return { decide, deps: { approvals: { decide } } as unknown as WorkflowDeps };
}

describe('nobody approves their own request, directly or through an API key', () => {
  it.each([
    ['the requester themselves', principal({ principalId: 'user-1' }), promotion()],
    [
      'an API key the requester created',
      principal({ principalId: 'kkey', principalType: 'apikey', onBehalfOf: 'user-1' }),
      promotion(),
    ],
    [
      'the user whose API key made the request',
      principal({ principalId: 'user-1' }),
      promotion({ requestedBy: 'kkey', requestedFor: 'user-1' }),
    ],
  ])('refuses %s', async (_name, caller, approval) => {
    // Prepare
    const f = deps();
    // Act
    const decision = decidePromotion(f.deps, { principal: caller, meta }, approval, { decision: 'reject' });
    // Assess
    await expect(decision).rejects.toBeInstanceOf(ForbiddenError);
    expect(f.decide).not.toHaveBeenCalled();
  });

  it('lets another person decide', async () => {
    // Prepare
    const f = deps();
    // Act
    const decided = await decidePromotion(f.deps, { principal: principal({}), meta }, promotion(), {
      decision: 'reject',
      comment: 'no',
    });
    // Assess
    expect(decided).toMatchObject({ status: 'rejected', decidedBy: 'user-2', comment: 'no' });
    expect(f.decide).toHaveBeenCalledTimes(1);
  });

  it('carries the key owner from the authorizer into the principal', () => {
    // Act
    const p = principalFromContext({
      authenticated: true,
      tenantId: T,
      principalType: 'apikey',
      principalId: 'kkey',
      keyOwner: 'user-1',
      permissions: 'approvals:decide',
    });
    // Assess
    expect(p).toMatchObject({ kind: 'tenant', onBehalfOf: 'user-1' });
  });
});
