import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, call, type Problem } from '../helpers/api.ts';
import {
  createTenant,
  inviteUser,
  type TestTenant,
  type TestUser,
  uniqueEmail,
  uniqueName,
} from '../helpers/tenants.ts';
import {
  type ApprovalView,
  auditRecords,
  builtinToolBody,
  createAgent,
  createTool,
  createWorkflow,
  expectCall,
  type HeadView,
  httpToolBody,
  type ListView,
  pendingApprovals,
  promote,
  scriptedAgentBody,
  startExecution,
  stepOf,
  succeedWorkflowBody,
  type VersionView,
  waitForStatus,
  workflowBody,
} from '../helpers/workflows.ts';

/**
 * End to end on the local platform: agents, tools and workflows with immutable versions,
 * validation through HTTP, limits, pinning, delete refused while in use, diff, rollback, promotion
 * with a second person's approval, the version and environment every execution records, and the
 * audit trail of it all. One fresh tenant for the file, so lists and counts are its own.
 */

let tenant: TestTenant;
let admin: string;
let operator: TestUser;

beforeAll(async () => {
  // Prepare: a fresh tenant, its admin and an operator (approvals:decide, no workflows:write)
  tenant = await createTenant('wf');
  admin = await tenant.token();
  operator = await inviteUser(admin, uniqueEmail('wf-operator'), ['operator']);
});

function pathsOf(response: ApiResponse<Problem>): string[] {
  return (response.body.errors ?? []).map((e) => e.path);
}

function expectProblem(response: ApiResponse<Problem>, status: number): void {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
}

async function workflowIds(): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await expectCall<ListView<{ workflowId: string }>>(
      200,
      'GET',
      `/workflows?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token: admin },
    );
    ids.push(...page.body.items.map((w) => w.workflowId));
    cursor = page.body.nextCursor;
  } while (cursor);
  return ids.sort();
}

async function version(workflowId: string, n: number): Promise<VersionView> {
  return (
    await expectCall<VersionView>(200, 'GET', `/workflows/${workflowId}/versions/${n}`, { token: admin })
  ).body;
}

async function head(kind: 'agents' | 'tools' | 'workflows', id: string): Promise<HeadView> {
  return (await expectCall<HeadView>(200, 'GET', `/${kind}/${id}`, { token: admin })).body;
}

/** Every audit action recorded for `resource`. */
async function auditActions(resource: string): Promise<string[]> {
  return (await auditRecords({ token: admin }, { resource })).map((r) => r.action);
}

describe('agents and tools: CRUD and immutable versions', () => {
  it('an agent is created at version 1; PUT makes version 2; both stay readable; delete removes it', async () => {
    // Prepare
    const first = scriptedAgentBody([{ reply: 'first answer' }], 'crud-agent');
    const second = { ...first, systemPrompt: 'Be brief.', script: [{ reply: 'second answer' }] };
    // Act
    const created = await call<HeadView & { agentId: string }>('POST', '/agents', {
      token: admin,
      body: first,
    });
    const agentId = created.body.agentId;
    const replaced = await call<HeadView>('PUT', `/agents/${agentId}`, { token: admin, body: second });
    const versions = await call<ListView<VersionView>>('GET', `/agents/${agentId}/versions`, {
      token: admin,
    });
    const v1 = await call<VersionView>('GET', `/agents/${agentId}/versions/1`, { token: admin });
    const v2 = await call<VersionView>('GET', `/agents/${agentId}/versions/2`, { token: admin });
    const listed = await call<ListView<HeadView & { agentId: string }>>('GET', '/agents?limit=100', {
      token: admin,
    });
    // Assess
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/agents/${agentId}`);
    expect(created.body).toMatchObject({ version: 1, name: first.name, provider: 'scripted' });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body).toMatchObject({ agentId, version: 2, systemPrompt: 'Be brief.' });
    expect(versions.body.items.map((v) => v.version)).toEqual([2, 1]);
    expect(v1.body.definition).toMatchObject({ script: [{ reply: 'first answer' }] });
    expect(v1.body.definition.systemPrompt).toBeUndefined();
    expect(v2.body.definition).toMatchObject({
      script: [{ reply: 'second answer' }],
      systemPrompt: 'Be brief.',
    });
    expect(listed.body.items.find((a) => a.agentId === agentId)?.version).toBe(2);

    // Act: delete
    const deleted = await call('DELETE', `/agents/${agentId}`, { token: admin });
    const gone = await call<Problem>('GET', `/agents/${agentId}`, { token: admin });
    // Assess
    expect(deleted.status, deleted.text).toBe(204);
    expectProblem(gone, 404);
  });

  it('a tool is created at version 1 with its defaults; PUT makes version 2; the old version is unchanged', async () => {
    // Prepare
    const first = httpToolBody('https://api.example.com/orders/{{args.id}}', { method: 'GET' }, 'crud-tool');
    const second = builtinToolBody('sum', 'crud-tool-2');
    // Act
    const toolId = await createTool(admin, first);
    const replaced = await call<HeadView>('PUT', `/tools/${toolId}`, { token: admin, body: second });
    const v1 = await call<VersionView>('GET', `/tools/${toolId}/versions/1`, { token: admin });
    const v2 = await call<VersionView>('GET', `/tools/${toolId}/versions/2`, { token: admin });
    const missing = await call<Problem>('GET', `/tools/${toolId}/versions/3`, { token: admin });
    // Assess
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body).toMatchObject({ version: 2, type: 'builtin', builtin: 'sum' });
    expect(v1.body.definition).toMatchObject({
      type: 'http',
      url: 'https://api.example.com/orders/{{args.id}}',
    });
    expect(v1.body.definition).not.toHaveProperty('allowPrivateNetwork');
    expect(v2.body.definition).toMatchObject({ type: 'builtin', builtin: 'sum' });
    expectProblem(missing, 404);
  });
});

describe('workflows: CRUD, versions and the compiled ASL', () => {
  it('create pins the current agent and tool versions and compiles; PUT makes version 2; versions stay readable', async () => {
    // Prepare
    const agentId = await createAgent(admin, scriptedAgentBody([{ reply: 'drafted' }], 'wf-agent'));
    const toolId = await createTool(admin, builtinToolBody('echo', 'wf-echo'));
    const steps = (prompt: string) => ({
      draft: { type: 'agent', agentId, prompt, next: 'store' },
      store: { type: 'tool', toolId, args: { text: '{{steps.draft.output.text}}' }, end: true },
    });
    const body = workflowBody(steps('Write about {{input.topic}}'), {}, 'crud-workflow');
    // Act
    const created = await call<HeadView & { workflowId: string }>('POST', '/workflows', {
      token: admin,
      body,
    });
    const workflowId = created.body.workflowId;
    const replaced = await call<HeadView>('PUT', `/workflows/${workflowId}`, {
      token: admin,
      body: { ...body, steps: steps('Write a poem about {{input.topic}}') },
    });
    const versions = await call<ListView<VersionView>>('GET', `/workflows/${workflowId}/versions`, {
      token: admin,
    });
    const v1 = await version(workflowId, 1);
    const v2 = await version(workflowId, 2);
    // Assess
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/workflows/${workflowId}`);
    expect(created.body).toMatchObject({ version: 1, name: body.name, environments: {} });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body.version).toBe(2);
    expect(versions.body.items.map((v) => v.version)).toEqual([2, 1]);
    expect(v1.pins).toEqual({ agents: { [agentId]: 1 }, tools: { [toolId]: 1 } });
    expect(v1.definition.steps).toMatchObject({ draft: { prompt: 'Write about {{input.topic}}' } });
    expect(v2.definition.steps).toMatchObject({ draft: { prompt: 'Write a poem about {{input.topic}}' } });
    expect(v1.asl?.StartAt).toBe('draft');
    expect(v1.asl?.States.draft).toMatchObject({ Type: 'Task', Next: 'store' });
    expect(v1.asl?.States.store).toMatchObject({ Type: 'Task', End: true });
    expect(JSON.stringify(v1.asl?.States.draft)).toContain('Write about {{input.topic}}');
    expect(JSON.stringify(v2.asl?.States.draft)).toContain('Write a poem about {{input.topic}}');
    expect(await workflowIds()).toContain(workflowId);
  });

  it('a workflow live in staging cannot be deleted (409); once only in dev it can (204), and is gone', async () => {
    // Prepare
    const workflowId = await createWorkflow(admin, succeedWorkflowBody('delete-me'));
    await promote(admin, workflowId, 1, 'staging');
    // Act
    const refused = await call<Problem>('DELETE', `/workflows/${workflowId}`, { token: admin });
    const still = await call('GET', `/workflows/${workflowId}`, { token: admin });
    const other = await createWorkflow(admin, succeedWorkflowBody('delete-me-too'));
    await promote(admin, other, 1, 'dev');
    const deleted = await call('DELETE', `/workflows/${other}`, { token: admin });
    const gone = await call<Problem>('GET', `/workflows/${other}`, { token: admin });
    // Assess
    expectProblem(refused, 409);
    expect(refused.body.detail).toContain('staging');
    expect(still.status).toBe(200);
    expect(deleted.status, deleted.text).toBe(204);
    expectProblem(gone, 404);
    expect(await workflowIds()).not.toContain(other);
  });
});

describe('validation through HTTP: every problem at once, with its path', () => {
  it('a workflow with an unknown agent, unreachable and dangling steps, a retry out of range and a template reading a step not guaranteed to have run', async () => {
    // Prepare
    const echo = await createTool(admin, builtinToolBody('echo', 'val-echo'));
    const before = await workflowIds();
    const body = workflowBody({
      classify: { type: 'agent', agentId: 'a-no-such-agent', prompt: 'hi', next: 'route' },
      route: {
        type: 'choice',
        choices: [{ when: { path: 'input.kind', equals: 'a' }, next: 'left' }],
        default: 'right',
      },
      left: { type: 'tool', toolId: echo, args: {}, retry: { maxAttempts: 99 }, next: 'join' },
      right: { type: 'tool', toolId: echo, args: {}, next: 'join' },
      join: { type: 'tool', toolId: echo, args: { text: '{{steps.left.output.text}}' }, end: true },
      orphan: { type: 'succeed' },
    });
    // Act
    const response = await call<Problem>('POST', '/workflows', { token: admin, body });
    // Assess
    expectProblem(response, 400);
    expect(response.body.type).toMatch(/\/validation-error$/);
    const errors = response.body.errors ?? [];
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: 'steps.classify.agentId', message: expect.stringContaining('unknown agent a-no-such-agent') },
        { path: 'steps.orphan', message: expect.stringContaining('unreachable') },
        { path: 'steps.left.retry.maxAttempts', message: expect.any(String) },
        {
          path: 'steps.join.args.text',
          message: expect.stringContaining('step left is not guaranteed to have run'),
        },
      ]),
    );
    expect(await workflowIds()).toEqual(before);
  });

  it('an agent with an unknown tool and a base URL with a query; http tools with a bad scheme or the removed allowPrivateNetwork', async () => {
    // Act
    const agent = await call<Problem>('POST', '/agents', {
      token: admin,
      body: {
        name: uniqueName('bad-agent'),
        provider: 'openai',
        model: 'gpt-4o-mini',
        baseUrl: 'https://models.example.com/v1?api-version=1',
        tools: ['o-no-such-tool'],
      },
    });
    const badScheme = await call<Problem>('POST', '/tools', {
      token: admin,
      body: httpToolBody('ftp://api.example.com/x'),
    });
    const flagged = await call<Problem>('POST', '/tools', {
      token: admin,
      body: httpToolBody('http://127.0.0.1:9/x', { allowPrivateNetwork: true }),
    });
    // Assess
    expectProblem(agent, 400);
    expect(pathsOf(agent).sort()).toEqual(['baseUrl', 'tools.0']);
    expectProblem(badScheme, 400);
    expect(badScheme.body.errors).toEqual([{ path: 'url', message: expect.stringMatching(/must be https/) }]);
    expectProblem(flagged, 400);
    expect(flagged.body.errors).toEqual([
      { path: 'allowPrivateNetwork', message: expect.stringMatching(/platform admin/) },
    ]);
  });
});

describe('limits: refused quickly, nothing stored', () => {
  it('a 1 MB definition is 413', async () => {
    // Prepare
    const before = await workflowIds();
    const body = { ...succeedWorkflowBody('huge'), description: 'x'.repeat(1024 * 1024) };
    const started = performance.now();
    // Act
    const response = await call<Problem>('POST', '/workflows', { token: admin, body });
    // Assess
    expect(response.status, response.text.slice(0, 300)).toBe(413);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await workflowIds()).toEqual(before);
  });

  it('10,000 steps are 400 or 413', async () => {
    // Prepare
    const before = await workflowIds();
    const steps: Record<string, unknown> = {};
    for (let i = 0; i < 10_000; i++) {
      steps[`s${i}`] = i === 9_999 ? { type: 'succeed' } : { type: 'wait', seconds: 1, next: `s${i + 1}` };
    }
    const started = performance.now();
    // Act
    const response = await call<Problem>('POST', '/workflows', { token: admin, body: workflowBody(steps) });
    // Assess
    expect([400, 413], response.text.slice(0, 300)).toContain(response.status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body.detail).toBeTruthy();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await workflowIds()).toEqual(before);
  });

  it('parallels nested 12 deep are 400 naming the nesting limit', async () => {
    // Prepare
    const before = await workflowIds();
    const level = (n: number): Record<string, unknown> => ({
      startAt: `p${n}`,
      steps: {
        [`p${n}`]: n === 0 ? { type: 'succeed' } : { type: 'parallel', branches: [level(n - 1)], end: true },
      },
    });
    const body = { name: uniqueName('nested'), ...level(12) };
    // Act
    const response = await call<Problem>('POST', '/workflows', { token: admin, body });
    // Assess
    expectProblem(response, 400);
    // The request-wide depth limit (functions/shared/json-limits.ts) refuses it before the workflow's own.
    expect(response.body.errors?.map((e) => e.message).join('\n')).toMatch(/nested deeper than 28 levels/);
    expect(await workflowIds()).toEqual(before);
  });
});

describe('pinning', () => {
  it('editing an agent never changes a published version; the next workflow version pins the new agent', async () => {
    // Prepare: agent v1, a workflow pinned to it, then agent v2
    const agentBody = scriptedAgentBody([{ reply: 'answer from agent v1' }], 'pinned-agent');
    const agentId = await createAgent(admin, agentBody);
    const body = workflowBody({ ask: { type: 'agent', agentId, prompt: '{{input.question}}', end: true } });
    const workflowId = await createWorkflow(admin, body);
    await promote(admin, workflowId, 1, 'dev');
    await expectCall(200, 'PUT', `/agents/${agentId}`, {
      token: admin,
      body: { ...agentBody, script: [{ reply: 'answer from agent v2' }] },
    });
    // Act
    const v1 = await version(workflowId, 1);
    const runV1 = await startExecution({ token: admin }, workflowId, { question: 'who are you?' });
    const doneV1 = await waitForStatus({ token: admin }, runV1, 'SUCCEEDED');
    await expectCall(200, 'PUT', `/workflows/${workflowId}`, { token: admin, body });
    await promote(admin, workflowId, 2, 'staging');
    const v2 = await version(workflowId, 2);
    const runV2 = await startExecution(
      { token: admin },
      workflowId,
      { question: 'who are you?' },
      {
        environment: 'staging',
      },
    );
    const doneV2 = await waitForStatus({ token: admin }, runV2, 'SUCCEEDED');
    // Assess
    expect(v1.pins?.agents).toEqual({ [agentId]: 1 });
    expect(v2.pins?.agents).toEqual({ [agentId]: 2 });
    expect(doneV1).toMatchObject({ workflowVersion: 1, environment: 'dev' });
    expect(stepOf(doneV1, 'ask')).toMatchObject({
      status: 'SUCCEEDED',
      ref: { id: agentId, version: 1 },
      output: { text: 'answer from agent v1' },
    });
    expect(doneV2).toMatchObject({ workflowVersion: 2, environment: 'staging' });
    expect(stepOf(doneV2, 'ask')).toMatchObject({
      ref: { id: agentId, version: 2 },
      output: { text: 'answer from agent v2' },
    });
  });

  it('deleting an agent or a tool a live workflow version uses is 409 naming the workflow', async () => {
    // Prepare
    const agentId = await createAgent(admin, scriptedAgentBody([{ reply: 'ok' }], 'used-agent'));
    const toolId = await createTool(admin, builtinToolBody('echo', 'used-tool'));
    const workflowId = await createWorkflow(
      admin,
      workflowBody({
        ask: { type: 'agent', agentId, prompt: 'hello', next: 'keep' },
        keep: { type: 'tool', toolId, args: { text: '{{steps.ask.output.text}}' }, end: true },
      }),
    );
    // Act
    const agentRefused = await call<Problem>('DELETE', `/agents/${agentId}`, { token: admin });
    const toolRefused = await call<Problem>('DELETE', `/tools/${toolId}`, { token: admin });
    const agentStill = await call('GET', `/agents/${agentId}`, { token: admin });
    const toolStill = await call('GET', `/tools/${toolId}`, { token: admin });
    await expectCall(204, 'DELETE', `/workflows/${workflowId}`, { token: admin });
    const agentDeleted = await call('DELETE', `/agents/${agentId}`, { token: admin });
    const toolDeleted = await call('DELETE', `/tools/${toolId}`, { token: admin });
    // Assess
    expectProblem(agentRefused, 409);
    expect(agentRefused.body.detail).toContain(workflowId);
    expectProblem(toolRefused, 409);
    expect(toolRefused.body.detail).toContain(workflowId);
    expect(agentStill.status).toBe(200);
    expect(toolStill.status).toBe(200);
    expect(agentDeleted.status, agentDeleted.text).toBe(204);
    expect(toolDeleted.status, toolDeleted.text).toBe(204);
  });
});

describe('diff and rollback', () => {
  it('diff names the steps added, removed and changed, with the changed fields; rollback makes a new equal version', async () => {
    // Prepare: v1 a → b → done; v2 a (changed) → c → done
    const echo = await createTool(admin, builtinToolBody('echo', 'diff-echo'));
    const sum = await createTool(admin, builtinToolBody('sum', 'diff-sum'));
    const name = uniqueName('diffed');
    const v1Body = workflowBody(
      {
        a: { type: 'tool', toolId: echo, args: { text: 'one' }, retry: { maxAttempts: 1 }, next: 'b' },
        b: { type: 'wait', seconds: 5, next: 'done' },
        done: { type: 'succeed' },
      },
      { name },
    );
    const v2Body = workflowBody(
      {
        a: { type: 'tool', toolId: echo, args: { text: 'two' }, retry: { maxAttempts: 2 }, next: 'c' },
        c: { type: 'tool', toolId: sum, args: { numbers: [1, 2] }, next: 'done' },
        done: { type: 'succeed' },
      },
      { name },
    );
    const workflowId = await createWorkflow(admin, v1Body);
    await expectCall(200, 'PUT', `/workflows/${workflowId}`, { token: admin, body: v2Body });
    // Act
    const diff = await call('GET', `/workflows/${workflowId}/diff?from=1&to=2`, { token: admin });
    const rollback = await call<HeadView>('POST', `/workflows/${workflowId}/rollback`, {
      token: admin,
      body: { version: 1 },
    });
    const v1 = await version(workflowId, 1);
    const v3 = await version(workflowId, 3);
    const same = await call('GET', `/workflows/${workflowId}/diff?from=1&to=3`, { token: admin });
    const noSuchVersion = await call<Problem>('POST', `/workflows/${workflowId}/rollback`, {
      token: admin,
      body: { version: 99 },
    });
    // Assess
    expect(diff.status, diff.text).toBe(200);
    expect(diff.body).toEqual({
      from: 1,
      to: 2,
      added: ['c'],
      removed: ['b'],
      changed: [{ stepId: 'a', fields: ['args.text', 'next', 'retry.maxAttempts'] }],
      topLevel: [],
    });
    expect(rollback.status, rollback.text).toBe(201);
    expect(rollback.headers.get('location')).toBe(`/workflows/${workflowId}/versions/3`);
    expect(rollback.body.version).toBe(3);
    expect(v3.rolledBackFrom).toBe(1);
    expect(v3.definition).toEqual(v1.definition);
    expect(v3.pins).toEqual(v1.pins);
    expect(same.body).toMatchObject({ added: [], removed: [], changed: [], topLevel: [] });
    expectProblem(noSuchVersion, 400);
    expect(pathsOf(noSuchVersion)).toEqual(['version']);
    expect((await head('workflows', workflowId)).version).toBe(3);
  });
});

describe('promotion', () => {
  it('dev and staging take effect at once, and each execution records the version and environment it ran', async () => {
    // Prepare
    const body = succeedWorkflowBody('promote-now');
    const workflowId = await createWorkflow(admin, body);
    await expectCall(200, 'PUT', `/workflows/${workflowId}`, { token: admin, body });
    // Act
    const dev = await call<{ status: string; workflow: HeadView }>(
      'POST',
      `/workflows/${workflowId}/promotions`,
      {
        token: admin,
        body: { version: 1, environment: 'dev' },
      },
    );
    const staging = await call<{ status: string; workflow: HeadView }>(
      'POST',
      `/workflows/${workflowId}/promotions`,
      { token: admin, body: { version: 2, environment: 'staging' } },
    );
    const [inDev, inStaging] = await Promise.all([
      startExecution({ token: admin }, workflowId, {}).then((id) =>
        waitForStatus({ token: admin }, id, 'SUCCEEDED'),
      ),
      startExecution({ token: admin }, workflowId, {}, { environment: 'staging' }).then((id) =>
        waitForStatus({ token: admin }, id, 'SUCCEEDED'),
      ),
    ]);
    // Assess
    expect(dev.status, dev.text).toBe(200);
    expect(dev.body).toMatchObject({ status: 'applied', workflow: { environments: { dev: 1 } } });
    expect(staging.status, staging.text).toBe(200);
    expect(staging.body.workflow.environments).toEqual({ dev: 1, staging: 2 });
    expect(inDev).toMatchObject({ workflowVersion: 1, environment: 'dev' });
    expect(inStaging).toMatchObject({ workflowVersion: 2, environment: 'staging' });
  });

  it('prod waits for another person: self-approval is 403, the operator’s approval applies it, a second decision is 409', async () => {
    // Prepare
    const workflowId = await createWorkflow(admin, succeedWorkflowBody('to-prod'));
    // Act
    const requested = await call<{ status: string; approval: ApprovalView }>(
      'POST',
      `/workflows/${workflowId}/promotions`,
      { token: admin, body: { version: 1, environment: 'prod' } },
    );
    const approvalId = requested.body.approval.approvalId;
    const inbox = await pendingApprovals({ token: await operator.token() });
    const self = await call<Problem>('POST', `/approvals/${approvalId}/decision`, {
      token: admin,
      body: { decision: 'approve' },
    });
    const afterSelf = await head('workflows', workflowId);
    const approved = await call<ApprovalView>('POST', `/approvals/${approvalId}/decision`, {
      token: await operator.token(),
      body: { decision: 'approve', comment: 'looks good' },
    });
    const afterApproval = await head('workflows', workflowId);
    const again = await call<Problem>('POST', `/approvals/${approvalId}/decision`, {
      token: await operator.token(),
      body: { decision: 'reject' },
    });
    const inProd = await waitForStatus(
      { token: admin },
      await startExecution({ token: admin }, workflowId, {}, { environment: 'prod' }),
      'SUCCEEDED',
    );
    // Assess
    expect(requested.status, requested.text).toBe(202);
    expect(requested.headers.get('location')).toBe(`/approvals/${approvalId}`);
    expect(requested.body).toMatchObject({
      status: 'pending',
      approval: {
        kind: 'promotion',
        status: 'pending',
        workflowId,
        version: 1,
        environment: 'prod',
        requestedBy: tenant.adminUserId,
      },
    });
    expect(inbox.map((a) => a.approvalId)).toContain(approvalId);
    expectProblem(self, 403);
    expect(afterSelf.environments?.prod).toBeUndefined();
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'approved',
      decidedBy: operator.userId,
      comment: 'looks good',
    });
    expect(afterApproval.environments?.prod).toBe(1);
    expectProblem(again, 409);
    expect((await head('workflows', workflowId)).environments?.prod).toBe(1);
    expect((await pendingApprovals({ token: admin })).map((a) => a.approvalId)).not.toContain(approvalId);
    expect(inProd).toMatchObject({ workflowVersion: 1, environment: 'prod' });
  });

  it('a rejected promotion leaves prod where it was', async () => {
    // Prepare: prod at version 1, then a request for version 2
    const body = succeedWorkflowBody('reject-prod');
    const workflowId = await createWorkflow(admin, body);
    await expectCall(200, 'PUT', `/workflows/${workflowId}`, { token: admin, body });
    const first = await expectCall<{ approval: ApprovalView }>(
      202,
      'POST',
      `/workflows/${workflowId}/promotions`,
      {
        token: admin,
        body: { version: 1, environment: 'prod' },
      },
    );
    await expectCall(200, 'POST', `/approvals/${first.body.approval.approvalId}/decision`, {
      token: await operator.token(),
      body: { decision: 'approve' },
    });
    const second = await expectCall<{ approval: ApprovalView }>(
      202,
      'POST',
      `/workflows/${workflowId}/promotions`,
      {
        token: admin,
        body: { version: 2, environment: 'prod' },
      },
    );
    // Act
    const rejected = await call<ApprovalView>(
      'POST',
      `/approvals/${second.body.approval.approvalId}/decision`,
      {
        token: await operator.token(),
        body: { decision: 'reject', comment: 'not yet' },
      },
    );
    // Assess
    expect(rejected.status, rejected.text).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'rejected', decidedBy: operator.userId, version: 2 });
    expect((await head('workflows', workflowId)).environments).toEqual({ prod: 1 });
  });

  it('promoting a version that does not exist is 400 naming the version; an unknown environment is 400', async () => {
    // Prepare
    const workflowId = await createWorkflow(admin, succeedWorkflowBody('bad-promotion'));
    // Act
    const noVersion = await call<Problem>('POST', `/workflows/${workflowId}/promotions`, {
      token: admin,
      body: { version: 7, environment: 'dev' },
    });
    const noEnvironment = await call<Problem>('POST', `/workflows/${workflowId}/promotions`, {
      token: admin,
      body: { version: 1, environment: 'qa' },
    });
    // Assess
    expectProblem(noVersion, 400);
    expect(pathsOf(noVersion)).toEqual(['version']);
    expectProblem(noEnvironment, 400);
    expect(pathsOf(noEnvironment)).toEqual(['environment']);
    expect((await head('workflows', workflowId)).environments).toEqual({});
  });
});

describe('audit', () => {
  it('creating and updating agents and workflows, promoting and deciding are audited', async () => {
    // Prepare
    const agentBody = scriptedAgentBody([{ reply: 'v1' }], 'audited-agent');
    const agentId = await createAgent(admin, agentBody);
    await expectCall(200, 'PUT', `/agents/${agentId}`, {
      token: admin,
      body: { ...agentBody, script: [{ reply: 'v2' }] },
    });
    const body = workflowBody({ ask: { type: 'agent', agentId, prompt: 'hi', end: true } });
    const workflowId = await createWorkflow(admin, body);
    await expectCall(200, 'PUT', `/workflows/${workflowId}`, { token: admin, body });
    await promote(admin, workflowId, 2, 'dev');
    const requested = await expectCall<{ approval: ApprovalView }>(
      202,
      'POST',
      `/workflows/${workflowId}/promotions`,
      {
        token: admin,
        body: { version: 2, environment: 'prod' },
      },
    );
    const approvalId = requested.body.approval.approvalId;
    await expectCall(200, 'POST', `/approvals/${approvalId}/decision`, {
      token: await operator.token(),
      body: { decision: 'approve' },
    });
    // Act
    const [agentActions, workflowActions, approvalActions] = await Promise.all([
      auditActions(agentId),
      auditActions(workflowId),
      auditActions(approvalId),
    ]);
    // Assess
    expect(agentActions.sort()).toEqual(['agent.create', 'agent.update']);
    expect(workflowActions.sort()).toEqual([
      'workflow.create',
      'workflow.promote',
      'workflow.promote',
      'workflow.update',
    ]);
    expect(approvalActions.sort()).toEqual(['promotion.approve', 'promotion.request']);
  });
});
