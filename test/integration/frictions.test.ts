/**
 * Frictions a new user met with the first contract, each fixed: the 401 challenge, an API
 * key's default expiry, a number budget, the diff naming a missing version.
 */
import { describe, expect, it } from 'vitest';
import { call, type Problem } from '../helpers/api.ts';
import { createTenant, uniqueName } from '../helpers/tenants.ts';
import { accessToken } from '../helpers/tokens.ts';
import {
  type ApprovalView,
  approvalOf,
  approvalWorkflowBody,
  createAgent,
  createWorkflow,
  deployWorkflow,
  type ExecutionView,
  expectCall,
  type ListView,
  scriptedAgentBody,
  startExecution,
  succeedWorkflowBody,
  waitForApprovalStep,
  waitForStatus,
  workflowBody,
} from '../helpers/workflows.ts';

const DAY_MS = 86_400_000;

describe('frictions of the first contract', () => {
  it('a refused token gets WWW-Authenticate: Bearer error="invalid_token"; no credential a bare Bearer challenge', async () => {
    // Act
    const garbage = await call<Problem>('GET', '/me', { token: 'not-a-jwt' });
    const none = await call<Problem>('GET', '/me');
    // Assess
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="The access token is not valid"',
    );
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('an API key created without expiresAt expires in 90 days', async () => {
    // Arrange
    const token = await accessToken('admin');
    const before = Date.now();
    // Act
    const created = await expectCall<{ expiresAt: string; key: string }>(201, 'POST', '/api-keys', {
      token,
      body: { name: uniqueName('default-expiry'), scopes: ['agents:read'] },
    });
    // Assess
    const expires = Date.parse(created.body.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 90 * DAY_MS - 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 90 * DAY_MS + 60_000);
    expect(created.body.key).toMatch(/^mk_/);
  });

  it('PUT /budget accepts a number amount and shows it as a decimal string', async () => {
    // Arrange
    const owner = await createTenant('budget-number');
    const token = await owner.token();
    // Act
    const set = await expectCall<{ monthlyLimitUsd: string }>(200, 'PUT', '/budget', {
      token,
      body: { monthlyLimitUsd: 250.5 },
    });
    const negative = await expectCall<Problem>(400, 'PUT', '/budget', {
      token,
      body: { monthlyLimitUsd: -1 },
    });
    // Assess
    expect(set.body.monthlyLimitUsd).toBe('250.500000');
    expect(negative.body.errors?.map((e) => e.path)).toEqual(['monthlyLimitUsd']);
  });

  it('GET /workflows/{id}/diff without `to` (or `from`) names the missing parameter', async () => {
    // Arrange
    const token = await accessToken('admin');
    const workflowId = await createWorkflow(token, succeedWorkflowBody('diff-params'));
    // Act
    const noTo = await call<Problem>('GET', `/workflows/${workflowId}/diff?from=1`, { token });
    const neither = await call<Problem>('GET', `/workflows/${workflowId}/diff`, { token });
    // Assess
    expect(noTo.status).toBe(400);
    expect(noTo.body.errors).toEqual([
      { path: 'query.to', message: 'required: the version number to compare to' },
    ]);
    expect(neither.body.errors?.map((e) => e.path)).toEqual(['query.from', 'query.to']);
    expect(neither.text).not.toContain('NaN');
  });

  it('a cancelled execution ends its approval step, and GET /approvals?status= lists decided approvals', async () => {
    // Arrange: one execution cancelled while it waits, one approved
    const owner = await createTenant('approvals-status');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, approvalWorkflowBody({ allowRequesterApproval: true }));
    const cancelledId = await startExecution({ token }, workflowId);
    await waitForApprovalStep({ token }, cancelledId);
    const approvedId = await startExecution({ token }, workflowId);
    const toApprove = await approvalOf({ token }, approvedId);
    // Act
    await expectCall(200, 'POST', `/executions/${cancelledId}/cancel`, { token });
    await expectCall(200, 'POST', `/approvals/${toApprove.approvalId}/decision`, {
      token,
      body: { decision: 'approve' },
    });
    const cancelled = await expectCall<ExecutionView>(200, 'GET', `/executions/${cancelledId}`, { token });
    const list = async (status: string) =>
      (await expectCall<ListView<ApprovalView>>(200, 'GET', `/approvals?status=${status}`, { token })).body
        .items;
    const [pending, approved, cancelledApprovals] = [
      await list('pending'),
      await list('approved'),
      await list('cancelled'),
    ];
    const bad = await expectCall<Problem>(400, 'GET', '/approvals?status=maybe', { token });
    // Assess
    expect(cancelled.body.status).toBe('CANCELLED');
    expect(cancelled.body.steps?.find((s) => s.type === 'approval')?.status).toBe('CANCELLED');
    expect(pending).toEqual([]);
    expect(approved.map((a) => a.executionId)).toEqual([approvedId]);
    expect(approved[0]?.status).toBe('approved');
    expect(cancelledApprovals.map((a) => [a.executionId, a.status])).toEqual([[cancelledId, 'cancelled']]);
    expect(bad.body.errors?.map((e) => e.path)).toEqual(['query.status']);
  });
});

describe('GET /workflows/{id}/webhooks', () => {
  it("lists the workflow's webhooks with their URLs and never their secrets", async () => {
    // Arrange
    const token = await accessToken('admin');
    const workflowId = await createWorkflow(token, succeedWorkflowBody('hooks-list'));
    const other = await createWorkflow(token, succeedWorkflowBody('hooks-other'));
    const made = await expectCall<{ webhookId: string; secret: string }>(
      201,
      'POST',
      `/workflows/${workflowId}/webhooks`,
      { token, body: { environment: 'dev', description: 'from CI' } },
    );
    await expectCall(201, 'POST', `/workflows/${other}/webhooks`, { token, body: {} });
    // Act
    const listed = await expectCall<{ items: { webhookId: string; url: string; environment: string }[] }>(
      200,
      'GET',
      `/workflows/${workflowId}/webhooks`,
      { token },
    );
    const missing = await call<Problem>('GET', '/workflows/no-such-workflow/webhooks', { token });
    // Assess
    expect(listed.body.items.map((h) => [h.webhookId, h.environment])).toEqual([
      [made.body.webhookId, 'dev'],
    ]);
    expect(listed.body.items[0]?.url).toMatch(new RegExp(`/hooks/${made.body.webhookId}$`));
    expect(listed.text).not.toContain(made.body.secret);
    expect(missing.status).toBe(404);
  });
});

describe('GET /usage by agent', () => {
  it('counts each execution once for every agent its workflow version uses', async () => {
    // Arrange
    const token = await accessToken('admin');
    const agentId = await createAgent(token, scriptedAgentBody([{ reply: 'ok' }], 'usage-agent'));
    const workflowId = await deployWorkflow(
      token,
      workflowBody({
        first: { type: 'agent', agentId, prompt: 'one', next: 'second' },
        second: { type: 'agent', agentId, prompt: 'two', end: true },
      }),
    );
    // Act
    for (let i = 0; i < 2; i++) {
      await waitForStatus({ token }, await startExecution({ token }, workflowId), 'SUCCEEDED');
    }
    const usage = await expectCall<{ byAgent: { id: string; executions: number }[] }>(200, 'GET', '/usage', {
      token,
    });
    // Assess: two executions, though each ran the agent twice
    expect(usage.body.byAgent.find((a) => a.id === agentId)?.executions).toBe(2);
  });
});
