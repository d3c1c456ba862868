import { describe, expect, it, vi } from 'vitest';
import type { Approval } from '#core/approvals/model.ts';
import { requestStepApproval } from '#core/approvals/steps.ts';
import type { ExecutionDeps } from '#core/executions/deps.ts';
import type { Execution } from '#core/executions/model.ts';
import { recordStatus } from '#core/executions/status.ts';
import type { NotificationEvent } from '#core/notifications/model.ts';
import { anExecution } from '../../../helpers/executions.ts';

/** Where execution and approval code raises notification events, and only there. */
const T = 'tabcdefghijklmnop';
const X = 'xabcdefghijklmnop';

function execution(overrides: Partial<Execution> = {}): Execution {
  return anExecution({
    executionId: X,
    workflowId: 'wabcdefghijklmnop',
    startedAt: '2026-03-01T00:00:00.000Z',
    ...overrides,
  });
}

function deps(moved = true) {
  const events: NotificationEvent[] = [];
  const approvals = new Map<string, Approval>();
  const value = {
    executions: {
      get: vi.fn(async () => execution()),
      transition: vi.fn(async () => moved),
      release: vi.fn(async () => undefined),
      finishStep: vi.fn(async () => undefined),
    },
    approvals: {
      get: vi.fn(async (_t: string, id: string) => approvals.get(id)),
      create: vi.fn(async (_t: string, a: Approval) => void approvals.set(a.approvalId, a)),
    },
    notify: vi.fn(async (event: NotificationEvent) => void events.push(event)),
    now: () => new Date('2026-03-01T00:01:00.000Z'),
  } as unknown as ExecutionDeps;
  return { deps: value, events };
}

describe('recordStatus raises', () => {
  it.each([
    ['FAILED', 'execution.failed', 'Custom.Boom'],
    ['TIMED_OUT', 'execution.timed_out', 'States.Timeout'],
  ] as const)('%s as %s, with the error', async (status, type, error) => {
    // Prepare
    const f = deps();
    // Act
    await recordStatus(f.deps, {
      tenantId: T,
      executionId: X,
      status,
      ...(status === 'FAILED' ? { error, cause: 'broke' } : {}),
      at: '2026-03-01T00:02:00.000Z',
    });
    // Assess
    expect(f.events).toEqual([
      expect.objectContaining({ type, tenantId: T, executionId: X, workflowId: 'wabcdefghijklmnop', error }),
    ]);
  });

  it.each(['SUCCEEDED', 'ABORTED'] as const)('nothing for %s', async (status) => {
    // Prepare
    const f = deps();
    // Act
    await recordStatus(f.deps, { tenantId: T, executionId: X, status, at: '2026-03-01T00:02:00.000Z' });
    // Assess
    expect(f.events).toEqual([]);
  });

  it('nothing for a late event that moves nothing', async () => {
    // Prepare
    const f = deps(false);
    // Act
    await recordStatus(f.deps, {
      tenantId: T,
      executionId: X,
      status: 'FAILED',
      error: 'E',
      at: '2026-03-01T00:02:00.000Z',
    });
    // Assess
    expect(f.events).toEqual([]);
  });
});

describe('requestStepApproval raises approval.pending', () => {
  it('once, with the step, its approvers and the requester, and not again for a retried task', async () => {
    // Prepare
    const f = deps();
    const request = {
      taskToken: 'token-1',
      stepId: 'approve',
      message: 'Go ahead?',
      approvers: { roles: ['operator'] },
      context: {
        tenantId: T,
        executionId: X,
        workflowId: 'wabcdefghijklmnop',
        workflowVersion: 1,
        environment: 'dev',
        startedBy: 'u1',
        startedAt: '2026-03-01T00:00:00.000Z',
      },
    } as unknown as Parameters<typeof requestStepApproval>[1];
    // Act
    const approval = await requestStepApproval(f.deps, request);
    await requestStepApproval(f.deps, request);
    // Assess
    expect(f.events).toHaveLength(1);
    expect(f.events[0]).toMatchObject({
      type: 'approval.pending',
      approvalId: approval.approvalId,
      kind: 'step',
      stepId: 'approve',
      message: 'Go ahead?',
      approvers: { roles: ['operator'], users: [] },
      requestedBy: 'u1',
      allowRequesterApproval: false,
    });
  });
});
