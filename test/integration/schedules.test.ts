import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { derivedId } from '#core/ids.ts';
import { fireKey } from '#core/schedules/schedules.ts';
import { type ApiResponse, call, type Problem } from '../helpers/api.ts';
import {
  authCacheTimeoutMs,
  createRole,
  createTenant,
  eventually,
  inviteUser,
  uniqueEmail,
} from '../helpers/tenants.ts';
import { platformAdminToken } from '../helpers/tokens.ts';
import {
  deployWorkflow,
  type ExecutionView,
  expectCall,
  type ListView,
  succeedWorkflowBody,
} from '../helpers/workflows.ts';

/**
 * Schedules on the local platform: the API, and real firings by the in-process scheduler. The test
 * platform fires an every-minute schedule every 2 seconds and delivers each firing twice
 * (global-setup.ts), as EventBridge Scheduler may deliver one firing more than once.
 */
interface ScheduleView {
  readonly scheduleId: string;
  readonly workflowId: string;
  readonly cron: string;
  readonly timeZone: string;
  readonly input: Record<string, unknown>;
  readonly environment: string;
  readonly enabled: boolean;
  readonly createdBy: string;
  readonly nextFireTimes: string[];
}

function expectProblem(response: ApiResponse<unknown>, status: number, type: string): Problem {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = response.body as Problem;
  expect(problem.type).toBe(`https://meridian.dev/problems/${type}`);
  return problem;
}

async function executionsOf(token: string, workflowId: string): Promise<ExecutionView[]> {
  const page = await expectCall<ListView<ExecutionView>>(
    200,
    'GET',
    `/executions?workflowId=${workflowId}&limit=100`,
    { token },
  );
  return [...page.body.items];
}

describe('schedules: the API', () => {
  it('creates, lists (with the next fire times in the zone) and deletes a schedule', async () => {
    // Prepare
    const owner = await createTenant('sched-api');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, succeedWorkflowBody('sched'));
    // Act
    const made = await expectCall<ScheduleView>(201, 'POST', `/workflows/${workflowId}/schedules`, {
      token,
      body: {
        cron: '30 2 * * *',
        timeZone: 'Europe/Berlin',
        input: { report: 'daily' },
        environment: 'dev',
        description: 'nightly',
      },
    });
    const listed = await expectCall<ListView<ScheduleView>>(
      200,
      'GET',
      `/workflows/${workflowId}/schedules`,
      {
        token,
      },
    );
    const deleted = await call('DELETE', `/schedules/${made.body.scheduleId}`, { token });
    const again = await call('DELETE', `/schedules/${made.body.scheduleId}`, { token });
    const after = await expectCall<ListView<ScheduleView>>(200, 'GET', `/workflows/${workflowId}/schedules`, {
      token,
    });
    // Assess
    expect(made.headers.get('location')).toBe(`/schedules/${made.body.scheduleId}`);
    expect(made.body).toMatchObject({
      workflowId,
      cron: '30 2 * * *',
      timeZone: 'Europe/Berlin',
      input: { report: 'daily' },
      environment: 'dev',
      enabled: true,
      createdBy: owner.adminUserId,
    });
    expect(made.body.nextFireTimes).toHaveLength(3);
    for (const at of made.body.nextFireTimes) {
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Berlin',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(new Date(at));
      expect(local).toBe('02:30');
    }
    expect(listed.body.items.map((s) => s.scheduleId)).toEqual([made.body.scheduleId]);
    expect(deleted.status).toBe(204);
    expectProblem(again, 404, 'not-found');
    expect(after.body.items).toEqual([]);
  });

  it('answers bad input with 400 naming the field', async () => {
    // Prepare
    const owner = await createTenant('sched-bad');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, succeedWorkflowBody('sched-bad'));
    const cases: [Record<string, unknown>, string][] = [
      [{ cron: '0 0 * *' }, 'cron'],
      [{ cron: '* * * * * *' }, 'cron'],
      [{ cron: '0 0 1 * MON' }, 'cron'],
      [{ cron: '0 0 * * *', timeZone: 'Mars/Olympus' }, 'timeZone'],
      [{ cron: '0 0 * * *', timeZone: '+02:00' }, 'timeZone'],
      [{ cron: '0 0 * * *', environment: 'qa' }, 'environment'],
      [{ cron: '0 0 * * *', input: { blob: 'x'.repeat(17_000) } }, 'input'],
      [{ cron: '0 0 * * *', input: [1, 2] }, 'input'],
      [{ cron: '0 0 * * *', enabled: 'yes' }, 'enabled'],
      [{ cron: '0 0 * * *', every: 'second' }, ''],
    ];
    for (const [body, field] of cases) {
      // Act
      const response = await call('POST', `/workflows/${workflowId}/schedules`, { token, body });
      // Assess
      const problem = expectProblem(response, 400, 'validation-error');
      if (field)
        expect(
          problem.errors?.some(
            (e) => e.path === field || e.path.endsWith(`.${field}`) || e.path.endsWith(`/${field}`),
          ),
          `${JSON.stringify(body)}: ${response.text}`,
        ).toBe(true);
    }
    const listed = await expectCall<ListView<ScheduleView>>(
      200,
      'GET',
      `/workflows/${workflowId}/schedules`,
      {
        token,
      },
    );
    expect(listed.body.items).toEqual([]);
  });

  it("refuses an input the environment's promoted version refuses, naming the field", async () => {
    // Prepare: version 1, with an inputSchema, promoted to dev only
    const owner = await createTenant('sched-schema');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, {
      ...succeedWorkflowBody('sched-schema'),
      inputSchema: { type: 'object', required: ['report'], properties: { report: { type: 'string' } } },
    });
    const post = (body: Record<string, unknown>) =>
      call('POST', `/workflows/${workflowId}/schedules`, { token, body });
    // Act
    const refused = await post({ cron: '0 0 * * *', environment: 'dev', input: { report: 7 } });
    const accepted = await post({ cron: '0 0 * * *', environment: 'dev', input: { report: 'daily' } });
    const unchecked = await post({ cron: '0 0 * * *', environment: 'prod', input: { report: 7 } });
    // Assess
    const problem = expectProblem(refused, 400, 'validation-error');
    expect(problem.errors).toEqual([{ path: 'input.report', message: 'must be string' }]);
    expect(accepted.status, accepted.text).toBe(201);
    // Nothing is promoted to prod yet: its firings check the input against what is promoted then.
    expect(unchecked.status, unchecked.text).toBe(201);
  });

  it('needs executions:start as well as workflows:write, and a workflow of the tenant', async () => {
    // Prepare
    const owner = await createTenant('sched-perm');
    const admin = await owner.token();
    const workflowId = await deployWorkflow(admin, succeedWorkflowBody('sched-perm'));
    const role = await createRole(admin, 'sched-writer', ['workflows:write', 'workflows:read']);
    const writer = await inviteUser(admin, uniqueEmail('sched-writer'), [role]);
    // Act
    const refused = await call('POST', `/workflows/${workflowId}/schedules`, {
      token: await writer.token(),
      body: { cron: '0 0 * * *' },
    });
    const missing = await call('POST', '/workflows/no-such-workflow/schedules', {
      token: admin,
      body: { cron: '0 0 * * *' },
    });
    // Assess
    expect(expectProblem(refused, 403, 'forbidden').detail).toMatch(/executions:start/);
    expectProblem(missing, 404, 'not-found');
  });

  it('caps a workflow at 10 schedules', async () => {
    // Prepare
    const owner = await createTenant('sched-cap');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, succeedWorkflowBody('sched-cap'));
    const made: string[] = [];
    for (let i = 0; i < 10; i++) {
      const response = await expectCall<ScheduleView>(201, 'POST', `/workflows/${workflowId}/schedules`, {
        token,
        body: { cron: `${i} 0 1 1 *`, enabled: false },
      });
      made.push(response.body.scheduleId);
    }
    // Act
    const eleventh = await call('POST', `/workflows/${workflowId}/schedules`, {
      token,
      body: { cron: '59 0 1 1 *', enabled: false },
    });
    await expectCall(204, 'DELETE', `/schedules/${made[0]}`, { token });
    const afterDelete = await call('POST', `/workflows/${workflowId}/schedules`, {
      token,
      body: { cron: '59 0 1 1 *', enabled: false },
    });
    // Assess
    expect(expectProblem(eleventh, 409, 'conflict').detail).toMatch(/at most 10 schedules/);
    expect(afterDelete.status, afterDelete.text).toBe(201);
  });
});

describe('schedules: firing', () => {
  it('each firing starts one run, also when delivered twice, as the schedule for its creator', async () => {
    // Prepare
    const owner = await createTenant('sched-fire');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, succeedWorkflowBody('sched-fire'));
    // Act
    const made = await expectCall<ScheduleView>(201, 'POST', `/workflows/${workflowId}/schedules`, {
      token,
      body: { cron: '* * * * *', environment: 'dev', input: { from: 'schedule' } },
    });
    await eventually(
      async () => expect((await executionsOf(token, workflowId)).length).toBeGreaterThanOrEqual(3),
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    await expectCall(204, 'DELETE', `/schedules/${made.body.scheduleId}`, { token });
    // A firing already under way when the schedule went may still land.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const executions = await executionsOf(token, workflowId);
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    const later = await executionsOf(token, workflowId);
    // Assess
    // Each run is named from the schedule and its planned fire time (an even second here): find
    // the fire time of each. Two deliveries of one firing would otherwise show as two runs.
    const firstStart = Math.min(...executions.map((e) => Date.parse(e.startedAt)));
    const fireTimeOf = new Map<string, string>();
    for (let t = Math.floor(firstStart / 2000) * 2000 - 60_000; t < Date.now(); t += 2000) {
      const at = new Date(t);
      const id = derivedId('x', `${owner.tenantId}|${workflowId}|${fireKey(made.body.scheduleId, at)}`);
      fireTimeOf.set(id, at.toISOString());
    }
    const fireTimes = executions.map((e) => fireTimeOf.get(e.executionId));
    expect(
      fireTimes.every((t) => t !== undefined),
      JSON.stringify(executions),
    ).toBe(true);
    expect(new Set(fireTimes).size).toBe(executions.length);
    for (const execution of executions) {
      expect(execution).toMatchObject({
        input: { from: 'schedule' },
        environment: 'dev',
        startedBy: made.body.scheduleId,
        startedFor: owner.adminUserId,
      });
    }
    expect(later.length, 'a deleted schedule fires no more').toBe(executions.length);
    const audit = await expectCall<ListView<{ actor: { id: string; type: string }; resourceId: string }>>(
      200,
      'GET',
      '/audit?action=execution.start&limit=100',
      { token },
    );
    const bySchedule = audit.body.items.filter((r) => r.actor.type === 'schedule');
    expect(bySchedule.map((r) => r.resourceId).sort()).toEqual(executions.map((e) => e.executionId).sort());
    expect(new Set(bySchedule.map((r) => r.actor.id))).toEqual(new Set([made.body.scheduleId]));
  });

  it('a disabled schedule never fires', async () => {
    // Prepare
    const owner = await createTenant('sched-off');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, succeedWorkflowBody('sched-off'));
    // Act
    const made = await expectCall<ScheduleView>(201, 'POST', `/workflows/${workflowId}/schedules`, {
      token,
      body: { cron: '* * * * *', environment: 'dev', enabled: false },
    });
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    // Assess
    expect(made.body.nextFireTimes).toEqual([]);
    expect(await executionsOf(token, workflowId)).toEqual([]);
  });

  it('a suspended tenant’s schedules start nothing, and fire again once it is reactivated', async () => {
    // Prepare
    const owner = await createTenant('sched-suspended');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, succeedWorkflowBody('sched-suspended'));
    const made = await expectCall<ScheduleView>(201, 'POST', `/workflows/${workflowId}/schedules`, {
      token,
      body: { cron: '* * * * *', environment: 'dev' },
    });
    await eventually(async () => expect((await executionsOf(token, workflowId)).length).toBeGreaterThan(0), {
      timeoutMs: 10_000,
      intervalMs: 300,
    });
    const admin = await platformAdminToken();
    // Act
    await expectCall(200, 'PATCH', `/tenants/${owner.tenantId}`, {
      token: admin,
      body: { status: 'suspended' },
    });
    const suspendedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    await expectCall(200, 'PATCH', `/tenants/${owner.tenantId}`, {
      token: admin,
      body: { status: 'active' },
    });
    const reactivatedAt = Date.now();
    const executions = await eventually(
      async () => {
        const all = await executionsOf(token, workflowId);
        expect(all.some((e) => Date.parse(e.startedAt) > reactivatedAt)).toBe(true);
        return all;
      },
      { timeoutMs: authCacheTimeoutMs(10_000), intervalMs: 500 },
    );
    await expectCall(204, 'DELETE', `/schedules/${made.body.scheduleId}`, { token });
    // Assess: nothing started while suspended (a firing in flight at the suspension may land in
    // its first half second).
    const whileSuspended = executions.filter((e) => {
      const at = Date.parse(e.startedAt);
      return at > suspendedAt + 500 && at < reactivatedAt;
    });
    expect(whileSuspended).toEqual([]);
    const log = readFileSync(inject('platformLogFile'), 'utf8');
    expect(log).toMatch(
      new RegExp(
        `"reason":"tenant-not-active"[^\\n]*"scheduleId":"${made.body.scheduleId}"|"scheduleId":"${made.body.scheduleId}"[^\\n]*"reason":"tenant-not-active"`,
      ),
    );
  });
});
