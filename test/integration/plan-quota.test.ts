import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import type { Problem } from '../helpers/api.ts';
import { localDocumentClient } from '../helpers/local-dynamo.ts';
import { createTenant } from '../helpers/tenants.ts';
import { deployWorkflow, postExecution, succeedWorkflowBody } from '../helpers/workflows.ts';

/**
 * The plan's monthly execution quota: the month's executions are seeded in the usage counter (a
 * hundred real executions would make a slow test), then a start is refused with 429 and Retry-After
 * pointing at the next month.
 */
describe('monthly execution quota by plan', () => {
  const db = localDocumentClient();

  async function seedExecutions(tenantId: string, count: number): Promise<void> {
    const month = new Date().toISOString().slice(0, 7);
    await db.send(
      new UpdateCommand({
        TableName: LOCAL_NAMES.tableName,
        Key: { pk: `TENANT#${tenantId}`, sk: `USAGE#${month}` },
        UpdateExpression: 'ADD executions :n',
        ExpressionAttributeValues: { ':n': count },
      }),
    );
  }

  function secondsToNextMonth(): number {
    const now = new Date();
    return (Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - now.getTime()) / 1000;
  }

  it('refuses a free tenant’s 101st execution of the month with 429 and Retry-After', async () => {
    // Prepare
    const tenant = await createTenant('quota-free', 'free');
    const token = await tenant.token();
    const workflowId = await deployWorkflow(token, succeedWorkflowBody('quota'));
    await seedExecutions(tenant.tenantId, 99);
    // Act: the 100th is still allowed, the next is not
    const hundredth = await postExecution({ token }, workflowId, {});
    // At least 100 now, whether the start counted itself yet or not.
    await seedExecutions(tenant.tenantId, 1);
    const refused = await postExecution({ token }, workflowId, {});
    // Assess
    expect(hundredth.status, hundredth.text).toBe(202);
    expect(refused.status, refused.text).toBe(429);
    const problem = refused.body as unknown as Problem;
    expect(problem.type).toBe('https://meridian.dev/problems/quota-exceeded');
    expect(problem.detail).toContain('100 executions a month');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Math.abs(retryAfter - secondsToNextMonth())).toBeLessThan(60);
  });

  it('lets a pro tenant run past the free plan’s quota', async () => {
    // Prepare
    const tenant = await createTenant('quota-pro', 'pro');
    const token = await tenant.token();
    const workflowId = await deployWorkflow(token, succeedWorkflowBody('quota'));
    await seedExecutions(tenant.tenantId, 100);
    // Act
    const started = await postExecution({ token }, workflowId, {});
    // Assess
    expect(started.status, started.text).toBe(202);
  });
});
