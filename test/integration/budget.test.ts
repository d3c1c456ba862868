import { afterAll, describe, expect, it } from 'vitest';
import type { Problem } from '../helpers/api.ts';
import { ALLOWED_LOOPBACK, allowEgress } from '../helpers/egress.ts';
import { createTenant, uniqueName } from '../helpers/tenants.ts';
import {
  chatCompletion,
  createAgent,
  deployWorkflow,
  expectCall,
  type LocalServer,
  postExecution,
  startExecution,
  startLocalServer,
  waitForStatus,
  workflowBody,
} from '../helpers/workflows.ts';

/**
 * The monthly budget: GET/PUT /budget, alerts at thresholds once a month, and the hard stop that
 * refuses new executions with 402 once the month's spend reaches the limit.
 */
interface BudgetView {
  readonly configured: boolean;
  readonly spentUsd: string;
  readonly monthlyLimitUsd?: string;
  readonly alertThresholds?: number[];
  readonly hardStop?: boolean;
  readonly percentUsed?: number | null;
  readonly alertsFired?: number[];
}

describe('budget', () => {
  let model: LocalServer | undefined;
  afterAll(async () => {
    await model?.close();
  });

  it('starts unconfigured, validates its fields, and is audited when set', async () => {
    // Prepare
    const owner = await createTenant('budget-set');
    const token = await owner.token();
    // Act
    const before = await expectCall<BudgetView>(200, 'GET', '/budget', { token });
    const bad = await expectCall<Problem>(400, 'PUT', '/budget', {
      token,
      body: { monthlyLimitUsd: 'ten', alertThresholds: [0, 150], extra: true },
    });
    const set = await expectCall<BudgetView>(200, 'PUT', '/budget', {
      token,
      body: { monthlyLimitUsd: '25.50', alertThresholds: [90, 50, 50] },
    });
    const audit = await expectCall<{ items: { action: string }[] }>(200, 'GET', '/audit?action=budget.set', {
      token,
    });
    // Assess
    expect(before.body).toMatchObject({ configured: false, spentUsd: '0.000000' });
    expect(bad.body.errors?.map((e) => e.path).sort()).toEqual([
      'alertThresholds.0',
      'alertThresholds.1',
      'extra',
      'monthlyLimitUsd',
    ]);
    expect(set.body).toMatchObject({
      configured: true,
      monthlyLimitUsd: '25.500000',
      alertThresholds: [50, 90],
      hardStop: true,
    });
    expect(audit.body.items).toHaveLength(1);
  });

  it('fires the thresholds the spend reached and stops new executions once it is spent', async () => {
    // Prepare: each execution costs 540 micros (gpt-4o-mini, 2000 in / 400 out); the budget is 0.0008 USD
    const owner = await createTenant('budget-stop');
    const token = await owner.token();
    model = await startLocalServer(
      () => ({
        status: 200,
        body: chatCompletion('done', { inputTokens: 2000, outputTokens: 400 }),
      }),
      ALLOWED_LOOPBACK,
    );
    await allowEgress(owner.tenantId);
    await expectCall(201, 'PUT', '/secrets/openai-key', { token, body: { value: 'sk-budget-test' } });
    const agentId = await createAgent(token, {
      name: uniqueName('gpt'),
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: `${model.url}/v1`,
      apiKeySecret: 'openai-key',
    });
    const workflowId = await deployWorkflow(
      token,
      workflowBody({ ask: { type: 'agent', agentId, prompt: 'hi', end: true } }),
    );
    await expectCall(200, 'PUT', '/budget', {
      token,
      body: { monthlyLimitUsd: '0.0008', alertThresholds: [50, 90] },
    });
    // Act
    await waitForStatus({ token }, await startExecution({ token }, workflowId, {}), 'SUCCEEDED');
    const afterOne = await expectCall<BudgetView>(200, 'GET', '/budget', { token });
    await waitForStatus({ token }, await startExecution({ token }, workflowId, {}), 'SUCCEEDED');
    const afterTwo = await expectCall<BudgetView>(200, 'GET', '/budget', { token });
    const refused = await postExecution({ token }, workflowId, {});
    // Assess: 540 of 800 micros is 67.5 % (50 fired); 1080 is over the limit (90 fired, hard stop)
    expect(afterOne.body).toMatchObject({ spentUsd: '0.000540', percentUsed: 67.5, alertsFired: [50] });
    expect(afterTwo.body).toMatchObject({ spentUsd: '0.001080', alertsFired: [50, 90] });
    expect(refused.status).toBe(402);
    expect((refused.body as unknown as Problem).type).toMatch(/budget-exceeded$/);
  });

  it('lets executions run past the limit when the hard stop is off', async () => {
    // Prepare: a budget of zero without hard stop
    const owner = await createTenant('budget-soft');
    const token = await owner.token();
    await expectCall(200, 'PUT', '/budget', { token, body: { monthlyLimitUsd: '0', hardStop: false } });
    const agentId = await createAgent(token, {
      name: uniqueName('scripted'),
      provider: 'scripted',
      model: 'scripted-1',
      script: [{ reply: 'ok' }],
    });
    const workflowId = await deployWorkflow(
      token,
      workflowBody({ ask: { type: 'agent', agentId, prompt: 'hi', end: true } }),
    );
    // Act
    const started = await postExecution({ token }, workflowId, {});
    // Assess
    expect(started.status).toBe(202);
  });
});
