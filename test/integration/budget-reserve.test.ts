import { describe, expect, it } from 'vitest';
import type { Problem } from '../helpers/api.ts';
import { createTenant } from '../helpers/tenants.ts';
import {
  approvalWorkflowBody,
  deployWorkflow,
  expectCall,
  getExecution,
  postExecution,
  waitForStatus,
} from '../helpers/workflows.ts';

/**
 * A hard-stop budget is reserve-then-settle: each start reserves an estimate in one conditional
 * atomic update, so concurrent starts cannot overrun it; the end of an execution gives back what it
 * did not spend.
 */
describe('budget: reserve then settle', () => {
  it('of 50 concurrent starts against a budget that fits 10, exactly 10 run and 40 are refused (402)', async () => {
    // Prepare: executions that wait for an approval, so none ends (and releases) during the burst
    const owner = await createTenant('budget-reserve');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, approvalWorkflowBody());
    const budget = await expectCall<{ reservePerExecutionUsd: string }>(200, 'PUT', '/budget', {
      token,
      body: { monthlyLimitUsd: '1.00', reservePerExecutionUsd: '0.10', hardStop: true },
    });
    // Act
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => postExecution({ token }, workflowId, {})),
    );
    // Assess
    expect(budget.body.reservePerExecutionUsd).toBe('0.100000');
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(10);
    expect(statuses.filter((s) => s === 402)).toHaveLength(40);
    const refused = answers.filter((a) => a.status === 402).map((a) => (a.body as unknown as Problem).type);
    expect(refused.every((type) => type.endsWith('budget-exceeded'))).toBe(true);
    const usage = await expectCall<{ total: { executions: number } }>(200, 'GET', '/usage', { token });
    expect(usage.body.total.executions).toBe(10);
  });

  it('gives the unspent reservation back when an execution ends, so the next start fits', async () => {
    // Prepare: a budget that fits one execution at a time
    const owner = await createTenant('budget-release');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, approvalWorkflowBody());
    await expectCall(200, 'PUT', '/budget', {
      token,
      body: { monthlyLimitUsd: '1.00', reservePerExecutionUsd: '0.60' },
    });
    const first = await postExecution({ token }, workflowId, {});
    expect(first.status, first.text).toBe(202);
    await waitForStatus({ token }, first.body.executionId, 'WAITING_APPROVAL');
    const whileRunning = await postExecution({ token }, workflowId, {});
    // Act
    await expectCall(200, 'POST', `/executions/${first.body.executionId}/cancel`, { token });
    const afterEnd = await postExecution({ token }, workflowId, {});
    // Assess
    expect(whileRunning.status).toBe(402);
    expect(afterEnd.status, afterEnd.text).toBe(202);
    const cancelled = await getExecution({ token }, first.body.executionId);
    expect(cancelled.status).toBe('CANCELLED');
    expect(Object.keys(cancelled)).not.toContain('reservedMicros');
  });
});
