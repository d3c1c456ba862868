import { describe, expect, it } from 'vitest';
import { DynamoRunSlotStore } from '#adapters/dynamo/run-slot-store.ts';
import { BULKHEAD_RETRY_AFTER_SECONDS, PLAN_CONCURRENCY } from '#core/governance/bulkhead.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import type { Problem } from '../helpers/api.ts';
import { localDocumentClient } from '../helpers/local-dynamo.ts';
import { createTenant } from '../helpers/tenants.ts';
import {
  approvalWorkflowBody,
  deployWorkflow,
  expectCall,
  postExecution,
  startExecution,
  succeedWorkflowBody,
  waitForStatus,
} from '../helpers/workflows.ts';

describe('concurrency bulkhead', () => {
  it('refuses a free tenant’s start beyond its running executions with 429, and admits it once one ends', async () => {
    // Prepare: approval workflows stay RUNNING until decided; the free plan allows 2 at a time
    const tenant = await createTenant('bulkhead', 'free');
    const token = await tenant.token();
    const workflowId = await deployWorkflow(token, approvalWorkflowBody());
    const running = [];
    for (let i = 0; i < PLAN_CONCURRENCY.free; i++) running.push(await startExecution({ token }, workflowId));
    // Act
    const refused = await postExecution({ token }, workflowId, {});
    await expectCall(200, 'POST', `/executions/${running[0]}/cancel`, { token });
    const admitted = await postExecution({ token }, workflowId, {});
    // Assess
    expect(refused.status, refused.text).toBe(429);
    const problem = refused.body as unknown as Problem;
    expect(problem.type).toBe('https://meridian.dev/problems/quota-exceeded');
    expect(problem.detail).toContain(`${PLAN_CONCURRENCY.free} running executions`);
    expect(refused.headers.get('retry-after')).toBe(String(BULKHEAD_RETRY_AFTER_SECONDS));
    expect(admitted.status, admitted.text).toBe(202);
  });
});

describe('concurrency bulkhead: finished executions', () => {
  it('gives the slot back when an execution finishes, so a free tenant can run more than 2 in turn', async () => {
    // Prepare
    const tenant = await createTenant('bulkhead-turns', 'free');
    const token = await tenant.token();
    const workflowId = await deployWorkflow(token, succeedWorkflowBody('turns'));
    // Act: one after another, each waited for
    const statuses = [];
    for (let i = 0; i < PLAN_CONCURRENCY.free + 2; i++) {
      const started = await postExecution({ token }, workflowId, {});
      statuses.push(started.status);
      if (started.status === 202) await waitForStatus({ token }, started.body.executionId, 'SUCCEEDED');
    }
    // Assess
    expect(statuses).toEqual(Array.from({ length: PLAN_CONCURRENCY.free + 2 }, () => 202));
  });
});

describe('run slots in DynamoDB', () => {
  const db = localDocumentClient();
  const store = new DynamoRunSlotStore(LOCAL_NAMES.tableName, { platform: db, forTenant: async () => db });
  const now = new Date().toISOString();
  const tenantOf = (tag: string) => `t${tag}${Date.now().toString(36)}`.slice(0, 17).padEnd(17, '0');

  it('gives concurrent claims at most the cap, from any number of containers', async () => {
    // Prepare
    const tenantId = tenantOf('slots');
    // Act: ten executions claim three slots at once
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.claim(tenantId, `x${i}`, 3, now)),
    );
    // Assess: retries may leave a claim short of a free slot, never over the cap
    const held = claims.filter(Boolean).length;
    expect(held).toBeLessThanOrEqual(3);
    expect(held).toBeGreaterThanOrEqual(2);
  });

  it('claims idempotently and frees a slot on release', async () => {
    // Prepare
    const tenantId = tenantOf('release');
    await store.claim(tenantId, 'xa', 2, now);
    await store.claim(tenantId, 'xb', 2, now);
    // Act
    const again = await store.claim(tenantId, 'xa', 2, now);
    const full = await store.claim(tenantId, 'xc', 2, now);
    await store.release(tenantId, 'xa');
    const afterRelease = await store.claim(tenantId, 'xc', 2, now);
    // Assess
    expect([again, full, afterRelease]).toEqual([true, false, true]);
  });
});
