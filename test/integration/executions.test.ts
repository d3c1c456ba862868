import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { forbiddenAddressClass } from '#core/net/address-guard.ts';
import { type ApiResponse, call, type Problem } from '../helpers/api.ts';
import { ALLOWED_LOOPBACK, allowEgress } from '../helpers/egress.ts';
import { TEST_CIRCUIT_COOLDOWN_MS, TEST_CIRCUIT_FAILURE_THRESHOLD } from '../helpers/platform-settings.ts';
import {
  createTenant,
  eventually,
  inviteUser,
  type TestTenant,
  type TestUser,
  uniqueEmail,
  uniqueName,
} from '../helpers/tenants.ts';
import {
  type ApprovalView,
  approvalOf,
  approvalWorkflowBody,
  auditRecords,
  builtinToolBody,
  chatCompletion,
  createAgent,
  createTool,
  deployWorkflow,
  type ExecutionView,
  expectCall,
  getExecution,
  httpToolBody,
  type ListView,
  type LocalServer,
  pendingApprovals,
  postExecution,
  scriptedAgentBody,
  startExecution,
  startLocalServer,
  stepOf,
  type UsageView,
  type VersionView,
  waitForApprovalStep,
  waitForStatus,
  workflowBody,
} from '../helpers/workflows.ts';

/**
 * End to end on the local platform (aws-local-stepfunctions running the compiled ASL, the
 * real step runner, approval and status handlers): every step type, retries, catch, failures,
 * approvals (approve, reject, timeout, self-approval, approver roles), cancel, idempotent starts,
 * bad input, cost and usage sums, SSRF refusals, the provider circuit breaker and secrets.
 *
 * Executions that need no interaction start together in `beforeAll` and the tests assess them;
 * HTTP tools and the OpenAI-compatible provider talk to small servers on 127.0.0.1 started here.
 */

let tenant: TestTenant;
let admin: string;
/** Holds the built-in role operator (approvals:decide). */
let operator: TestUser;
/** A second admin: holds approvals:decide but not the operator role. */
let admin2: TestUser;
/** HTTP tools' endpoint: `/flaky/<key>` fails twice then answers, `/down/<key>` always 503, `/slow/<key>` echoes after 150 ms. */
let tools: LocalServer;
const asAdmin = () => ({ token: admin });

/** Executions started in beforeAll, by what they show. */
const runs: Record<string, string> = {};
/** Workflows made in beforeAll. */
const flows: Record<string, string> = {};
/** Keys of HTTP tool calls (a path each, so request counts are per scenario). */
const keys = {
  retryOk: uniqueName('retry-ok'),
  retryCatch: uniqueName('retry-catch'),
  fail: uniqueName('fail'),
  map: uniqueName('map'),
};
const ITEMS = ['a', 'b', 'c', 'd', 'e'];

/**
 * A host an HTTP tool may name (nothing private about it on its face) that reaches a private
 * address: the machine's own host name, which resolves to loopback or a private address on most
 * machines (/etc/hosts); where it does not, an IPv4-compatible IPv6 literal of 127.0.0.1, which the
 * save-time check does not recognise either (see the report) but the run-time guard does.
 */
async function disguisedPrivateHost(): Promise<{ urlHost: string; host: string }> {
  const name = hostname();
  try {
    const addresses = await lookup(name, { all: true });
    if (addresses.length > 0 && addresses.every((a) => forbiddenAddressClass(a.address) !== undefined)) {
      return { urlHost: name, host: name };
    }
  } catch {
    // Not resolvable here: use the literal below.
  }
  return { urlHost: '[::7f00:1]', host: '::7f00:1' };
}
let disguised: { urlHost: string; host: string };

beforeAll(async () => {
  // Prepare: a fresh tenant, an operator and a second admin
  tenant = await createTenant('exec');
  admin = await tenant.token();
  [operator, admin2] = await Promise.all([
    inviteUser(admin, uniqueEmail('exec-operator'), ['operator']),
    inviteUser(admin, uniqueEmail('exec-admin2'), ['admin']),
  ]);
  // The test servers listen on ALLOWED_LOOPBACK, which the platform admin allowlists for this tenant.
  await allowEgress(tenant.tenantId);
  const flaky = new Map<string, number>();
  tools = await startLocalServer((request) => {
    const [, kind = '', key = ''] = request.path.split('/');
    if (kind === 'flaky') {
      const seen = (flaky.get(key) ?? 0) + 1;
      flaky.set(key, seen);
      return seen <= 2
        ? { status: 500, body: { error: 'not yet' } }
        : { status: 200, body: { ok: true, attempt: seen } };
    }
    if (kind === 'down') return { status: 503, body: { error: 'down' } };
    if (kind === 'slow')
      return { status: 200, body: { got: JSON.parse(request.body) as unknown }, delayMs: 150 };
    return { status: 404 };
  }, ALLOWED_LOOPBACK);

  // Agents and tools
  const classifier = await createAgent(
    admin,
    scriptedAgentBody(
      [
        { match: 'refund', reply: '{"label":"refund"}', usage: { inputTokens: 10, outputTokens: 2 } },
        { reply: '{"label":"other"}' },
      ],
      'classifier',
    ),
  );
  const echo = await createTool(admin, builtinToolBody('echo'));
  const sum = await createTool(admin, builtinToolBody('sum'));
  const local = {};
  const flakyTool = await createTool(admin, httpToolBody(`${tools.url}/flaky/{{args.key}}`, local, 'flaky'));
  const downTool = await createTool(admin, httpToolBody(`${tools.url}/down/{{args.key}}`, local, 'down'));
  const slowTool = await createTool(admin, httpToolBody(`${tools.url}/slow/{{args.key}}`, local, 'slow'));
  // A host that is not a private address on its face, but reaches one.
  disguised = await disguisedPrivateHost();
  const refusedTool = await createTool(
    admin,
    httpToolBody(`https://${disguised.urlHost}:9/hook`, {}, 'resolves-private'),
  );

  // Workflows, each with version 1 in dev
  const approve = (approval: Record<string, unknown> = {}) =>
    workflowBody({
      approve: { type: 'approval', message: 'Refund this customer?', next: 'after', ...approval },
      after: {
        type: 'tool',
        toolId: echo,
        args: { by: '{{steps.approve.output.decidedBy}}', decision: '{{steps.approve.output.decision}}' },
        end: true,
      },
    });
  // One after the other, so each workflow's setup reads as a sequence.
  const bodies: Record<string, Record<string, unknown>> = {
    types: workflowBody({
      classify: { type: 'agent', agentId: classifier, prompt: '{{input.text}}', next: 'route' },
      route: {
        type: 'choice',
        choices: [{ when: { path: 'steps.classify.output.data.label', equals: 'refund' }, next: 'fan' }],
        default: 'refuse',
      },
      refuse: { type: 'fail', error: 'Triage.NotARefund', cause: 'only refunds are handled' },
      fan: {
        type: 'parallel',
        branches: [
          {
            startAt: 'total',
            steps: {
              total: { type: 'tool', toolId: sum, args: { numbers: '{{input.amounts}}' }, end: true },
            },
          },
          {
            startAt: 'note',
            steps: {
              note: {
                type: 'tool',
                toolId: echo,
                args: { label: '{{steps.classify.output.data.label}}', text: 'order {{input.orderId}}' },
                end: true,
              },
            },
          },
        ],
        next: 'pause',
      },
      pause: { type: 'wait', seconds: 3600, next: 'each' },
      each: {
        type: 'map',
        itemsPath: 'input.items',
        maxConcurrency: 2,
        iterator: {
          startAt: 'visit',
          steps: {
            visit: { type: 'tool', toolId: slowTool, args: { key: keys.map, item: '{{item}}' }, end: true },
          },
        },
        next: 'done',
      },
      done: { type: 'succeed' },
    }),
    retryOk: workflowBody({
      call: {
        type: 'tool',
        toolId: flakyTool,
        args: { key: keys.retryOk },
        retry: { maxAttempts: 3, intervalSeconds: 1, backoffRate: 2 },
        end: true,
      },
    }),
    retryCatch: workflowBody({
      call: {
        type: 'tool',
        toolId: downTool,
        args: { key: keys.retryCatch },
        retry: { maxAttempts: 2, intervalSeconds: 1 },
        catch: [{ errors: ['Tool.HttpError'], next: 'recover' }],
        next: 'done',
      },
      recover: { type: 'tool', toolId: echo, args: { recovered: true }, end: true },
      done: { type: 'succeed' },
    }),
    fail: workflowBody({ call: { type: 'tool', toolId: downTool, args: { key: keys.fail }, end: true } }),
    approval: approve(),
    selfAllowed: approve({ allowRequesterApproval: true }),
    roles: approve({ approvers: { roles: ['operator'] } }),
    timeout: approve({ timeoutSeconds: 1 }),
    refused: workflowBody({ call: { type: 'tool', toolId: refusedTool, args: {}, end: true } }),
  };
  for (const [name, body] of Object.entries(bodies)) flows[name] = await deployWorkflow(admin, body);

  // Act (for the tests below): every execution that needs no decision to start with
  const starts: Record<string, [string | undefined, Record<string, unknown>]> = {
    refund: [flows.types, { text: 'I want a refund', orderId: 'o-42', amounts: [10, 20.5, 4], items: ITEMS }],
    other: [flows.types, { text: 'hello there', orderId: 'o-43', amounts: [], items: [] }],
    retryOk: [flows.retryOk, {}],
    retryCatch: [flows.retryCatch, {}],
    fail: [flows.fail, {}],
    approve: [flows.approval, { order: 1 }],
    reject: [flows.approval, { order: 2 }],
    cancel: [flows.approval, { order: 3 }],
    selfAllowed: [flows.selfAllowed, {}],
    roles: [flows.roles, {}],
    timeout: [flows.timeout, {}],
    refused: [flows.refused, {}],
  };
  for (const [name, [workflowId, input]] of Object.entries(starts)) {
    runs[name] = await startExecution(asAdmin(), workflowId ?? '', input);
  }
});

afterAll(async () => {
  await tools?.close();
});

function run(name: string): string {
  const id = runs[name];
  if (!id) throw new Error(`no execution ${name}`);
  return id;
}

function flow(name: string): string {
  const id = flows[name];
  if (!id) throw new Error(`no workflow ${name}`);
  return id;
}

function expectProblem(response: ApiResponse<unknown>, status: number): void {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
}

/** The problem+json body of an error answer. */
function problem(response: ApiResponse<unknown>): Problem {
  return response.body as Problem;
}

async function executionsOf(workflowId: string): Promise<ExecutionView[]> {
  return (
    await expectCall<ListView<ExecutionView>>(
      200,
      'GET',
      `/executions?workflowId=${workflowId}&limit=100`,
      asAdmin(),
    )
  ).body.items;
}

function decide(
  who: string,
  approvalId: string,
  decision: 'approve' | 'reject',
  comment?: string,
): Promise<ApiResponse<ApprovalView>> {
  return call('POST', `/approvals/${approvalId}/decision`, {
    token: who,
    body: { decision, ...(comment ? { comment } : {}) },
  });
}

describe('every step type', () => {
  it('agent, choice, parallel, wait, map (with maxConcurrency) and succeed run in order and record their steps', async () => {
    // Act
    const execution = await waitForStatus(asAdmin(), run('refund'), 'SUCCEEDED', 20_000);
    const asl = (
      await expectCall<VersionView>(200, 'GET', `/workflows/${flow('types')}/versions/1`, asAdmin())
    ).body.asl;
    // Assess: the agent and the choice
    expect(stepOf(execution, 'classify')).toMatchObject({
      type: 'agent',
      status: 'SUCCEEDED',
      attempts: 1,
      output: {
        text: '{"label":"refund"}',
        data: { label: 'refund' },
        usage: { inputTokens: 10, outputTokens: 2 },
      },
    });
    // the parallel's branches, each a tool step
    expect(stepOf(execution, 'total')).toMatchObject({
      type: 'tool',
      status: 'SUCCEEDED',
      output: { sum: 34.5 },
    });
    expect(stepOf(execution, 'note')).toMatchObject({
      type: 'tool',
      status: 'SUCCEEDED',
      output: { label: 'refund', text: 'order o-42' },
    });
    // the map: one step per item, at most two at once
    for (const [i, item] of ITEMS.entries()) {
      expect(stepOf(execution, `visit[${i}]`)).toMatchObject({
        stepId: 'visit',
        status: 'SUCCEEDED',
        output: { got: { key: keys.map, item } },
      });
    }
    expect(execution.output?.each).toEqual(
      ITEMS.map((item) => ({ visit: { output: { got: { key: keys.map, item } } } })),
    );
    expect(tools.requestsTo(`/slow/${keys.map}`)).toHaveLength(ITEMS.length);
    expect(tools.maxInFlight('/slow')).toBeLessThanOrEqual(2);
    expect(asl?.States.each).toMatchObject({ Type: 'Map', MaxConcurrency: 2 });
    expect(asl?.States.pause).toMatchObject({ Type: 'Wait', Seconds: 3600 });
    // and the execution: output of every step, no error, timings
    expect(Object.keys(execution.output ?? {}).sort()).toEqual(['classify', 'each', 'note', 'total']);
    expect(execution.error).toBeUndefined();
    expect(Date.parse(execution.endedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(execution.startedAt));
  });

  it('the choice’s default leads to a fail step: FAILED with its error and cause, no later step ran', async () => {
    // Act
    const execution = await waitForStatus(asAdmin(), run('other'), 'FAILED');
    // Assess
    expect(execution.error).toEqual({ error: 'Triage.NotARefund', cause: 'only refunds are handled' });
    expect(stepOf(execution, 'classify').output).toMatchObject({ data: { label: 'other' } });
    expect((execution.steps ?? []).map((s) => s.stepKey)).toEqual(['classify']);
  });
});

describe('retries, catch and failures', () => {
  it('a step that fails twice, then answers, succeeds on its third attempt', async () => {
    // Act
    const execution = await waitForStatus(asAdmin(), run('retryOk'), 'SUCCEEDED');
    // Assess
    expect(stepOf(execution, 'call')).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 3,
      output: { ok: true, attempt: 3 },
    });
    expect(stepOf(execution, 'call').error).toBeUndefined();
    expect(tools.requestsTo(`/flaky/${keys.retryOk}`)).toHaveLength(3);
  });

  it('a step that keeps failing is retried, then caught: the step is FAILED, the catch path runs, the execution succeeds', async () => {
    // Act
    const execution = await waitForStatus(asAdmin(), run('retryCatch'), 'SUCCEEDED');
    // Assess
    expect(stepOf(execution, 'call')).toMatchObject({
      status: 'FAILED',
      attempts: 3,
      error: { error: 'Tool.HttpError', cause: expect.stringContaining('HTTP 503') },
    });
    expect(stepOf(execution, 'recover')).toMatchObject({ status: 'SUCCEEDED', output: { recovered: true } });
    expect(tools.requestsTo(`/down/${keys.retryCatch}`)).toHaveLength(3);
    expect(execution.error).toBeUndefined();
  });

  it('a failing step without retry or catch fails the execution; the error is on the step and the execution', async () => {
    // Act
    const execution = await waitForStatus(asAdmin(), run('fail'), 'FAILED');
    // Assess
    const expected = { error: 'Tool.HttpError', cause: expect.stringContaining('HTTP 503') };
    expect(stepOf(execution, 'call')).toMatchObject({ status: 'FAILED', attempts: 1, error: expected });
    expect(execution.error).toEqual(expected);
    expect(execution.endedAt).toBeDefined();
    expect(tools.requestsTo(`/down/${keys.fail}`)).toHaveLength(1);
  });
});

describe('approvals', () => {
  it('the starter cannot approve (403); the operator approves, the execution resumes with the decision', async () => {
    // Prepare
    const waiting = await waitForApprovalStep(asAdmin(), run('approve'));
    const approval = await approvalOf({ token: await operator.token() }, run('approve'));
    // Act
    const self = await decide(admin, approval.approvalId, 'approve');
    const stillWaiting = await getExecution(asAdmin(), run('approve'));
    const approved = await decide(await operator.token(), approval.approvalId, 'approve', 'refund it');
    const execution = await waitForStatus(asAdmin(), run('approve'), 'SUCCEEDED');
    // Assess
    expect(stepOf(waiting, 'approve').status).toBe('WAITING_APPROVAL');
    expect(approval).toMatchObject({
      kind: 'step',
      status: 'pending',
      workflowId: flow('approval'),
      stepId: 'approve',
      requestedBy: tenant.adminUserId,
      message: 'Refund this customer?',
    });
    // The task token is kept for the engine only: neither the approval nor the execution shows it.
    expect(JSON.stringify(approval)).not.toMatch(/taskToken|local-[0-9a-f]{8}-/i);
    expect(JSON.stringify(waiting)).not.toMatch(/taskToken|local-[0-9a-f]{8}-/i);
    expectProblem(self, 403);
    expect(stillWaiting.status).toBe('WAITING_APPROVAL');
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'approved',
      decidedBy: operator.userId,
      comment: 'refund it',
    });
    expect(stepOf(execution, 'approve')).toMatchObject({
      status: 'SUCCEEDED',
      output: { decision: 'approve', decidedBy: operator.userId, comment: 'refund it' },
    });
    expect(stepOf(execution, 'after').output).toEqual({ by: operator.userId, decision: 'approve' });
    expect((await pendingApprovals(asAdmin())).map((a) => a.approvalId)).not.toContain(approval.approvalId);
  });

  it('a rejection fails the execution with Approval.Rejected', async () => {
    // Prepare
    await waitForApprovalStep(asAdmin(), run('reject'));
    const approval = await approvalOf(asAdmin(), run('reject'));
    // Act
    const rejected = await decide(await operator.token(), approval.approvalId, 'reject', 'not eligible');
    const execution = await waitForStatus(asAdmin(), run('reject'), 'FAILED');
    // Assess
    expect(rejected.status, rejected.text).toBe(200);
    expect(rejected.body.status).toBe('rejected');
    expect(execution.error).toEqual({ error: 'Approval.Rejected', cause: 'not eligible' });
    expect(stepOf(execution, 'approve')).toMatchObject({
      status: 'FAILED',
      error: { error: 'Approval.Rejected', cause: 'not eligible' },
    });
    expect((execution.steps ?? []).map((s) => s.stepId)).not.toContain('after');
  });

  it('nobody deciding in time: TIMED_OUT, the approval expired and a late decision is 409', async () => {
    // Act
    const execution = await waitForStatus(asAdmin(), run('timeout'), 'TIMED_OUT');
    // The approval lived one second; the audit trail says which it was and that it expired.
    const expired = await eventually(async () => {
      const found = (await auditRecords(asAdmin(), { action: 'approval.expire' })).find(
        (r) => (r.before as ApprovalView | undefined)?.executionId === run('timeout'),
      );
      if (!found) throw new Error('no approval.expire record yet');
      return found;
    });
    const late = await decide(await operator.token(), expired.resourceId, 'approve');
    // Assess
    expect(execution.error?.error).toBe('States.Timeout');
    expect(expired.before).toMatchObject({ status: 'pending', kind: 'step', stepId: 'approve' });
    expect(expired.actor.type).toBe('system');
    expectProblem(late, 409);
    expect(problem(late).detail).toContain('expired');
    expect((await pendingApprovals(asAdmin())).map((a) => a.approvalId)).not.toContain(expired.resourceId);
    expect((await getExecution(asAdmin(), run('timeout'))).status).toBe('TIMED_OUT');
  });

  it('with allowRequesterApproval the starter may approve their own execution', async () => {
    // Prepare
    await waitForApprovalStep(asAdmin(), run('selfAllowed'));
    const approval = await approvalOf(asAdmin(), run('selfAllowed'));
    // Act
    const approved = await decide(admin, approval.approvalId, 'approve');
    const execution = await waitForStatus(asAdmin(), run('selfAllowed'), 'SUCCEEDED');
    // Assess
    expect(approved.status, approved.text).toBe(200);
    expect(stepOf(execution, 'after').output).toEqual({ by: tenant.adminUserId, decision: 'approve' });
  });

  it('approvers.roles restricts who decides: another admin is 403, the operator may', async () => {
    // Prepare
    await waitForApprovalStep(asAdmin(), run('roles'));
    const approval = await approvalOf(asAdmin(), run('roles'));
    // Act
    const otherAdmin = await decide(await admin2.token(), approval.approvalId, 'approve');
    const stillWaiting = await getExecution(asAdmin(), run('roles'));
    const byOperator = await decide(await operator.token(), approval.approvalId, 'approve');
    const execution = await waitForStatus(asAdmin(), run('roles'), 'SUCCEEDED');
    // Assess
    expectProblem(otherAdmin, 403);
    expect(problem(otherAdmin).detail).toMatch(/approvers/);
    expect(stillWaiting.status).toBe('WAITING_APPROVAL');
    expect(byOperator.status, byOperator.text).toBe(200);
    expect(stepOf(execution, 'after').output).toEqual({ by: operator.userId, decision: 'approve' });
  });

  it('cancel while waiting: CANCELLED; a late approval is 409 and changes nothing', async () => {
    // Prepare
    await waitForApprovalStep(asAdmin(), run('cancel'));
    const approval = await approvalOf(asAdmin(), run('cancel'));
    // Act
    const cancelled = await call<ExecutionView>('POST', `/executions/${run('cancel')}/cancel`, asAdmin());
    const late = await decide(await operator.token(), approval.approvalId, 'approve');
    const again = await call<Problem>('POST', `/executions/${run('cancel')}/cancel`, asAdmin());
    // Assess
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', error: { error: 'Execution.Cancelled' } });
    expectProblem(late, 409);
    expectProblem(again, 409);
    const after = await getExecution(asAdmin(), run('cancel'));
    expect(after.status).toBe('CANCELLED');
    expect((after.steps ?? []).map((s) => s.stepId)).toEqual(['approve']);
    expect((await pendingApprovals(asAdmin())).map((a) => a.approvalId)).not.toContain(approval.approvalId);
  });
});

describe('starting: idempotency and bad input', () => {
  it('a replay with the same key and body returns the same execution; another body under that key is 409', async () => {
    // Prepare
    const workflowId = await deployWorkflow(admin, approvalWorkflowBody({}, 'idempotent'));
    const key = uniqueName('order');
    // Act
    const first = await postExecution(asAdmin(), workflowId, { order: 42 }, { idempotencyKey: key });
    const replay = await postExecution(asAdmin(), workflowId, { order: 42 }, { idempotencyKey: key });
    const otherBody = await postExecution(asAdmin(), workflowId, { order: 43 }, { idempotencyKey: key });
    // Assess
    expect(first.status, first.text).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(replay.status, replay.text).toBe(202);
    expect(replay.body.executionId).toBe(first.body.executionId);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expectProblem(otherBody, 409);
    expect((await executionsOf(workflowId)).map((e) => e.executionId)).toEqual([first.body.executionId]);
  });

  it('ten concurrent replays make exactly one execution, which runs its steps once (four bursts)', async () => {
    // Prepare
    const echo = await createTool(admin, builtinToolBody('echo', 'concurrent-echo'));
    const workflowId = await deployWorkflow(
      admin,
      workflowBody({ say: { type: 'tool', toolId: echo, args: { n: '{{input.n}}' }, end: true } }),
    );
    const executions: string[] = [];
    for (let burst = 0; burst < 4; burst++) {
      const key = uniqueName('burst');
      // Act
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          postExecution(asAdmin(), workflowId, { n: burst }, { idempotencyKey: key }),
        ),
      );
      const executionId = answers[0]?.body.executionId ?? '';
      const execution = await waitForStatus(asAdmin(), executionId, 'SUCCEEDED');
      executions.push(executionId);
      // Assess
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
      expect(new Set(answers.map((a) => a.body.executionId))).toEqual(new Set([executionId]));
      expect(answers.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1);
      expect(execution.steps, `burst ${burst}`).toHaveLength(1);
      expect(stepOf(execution, 'say'), `burst ${burst}: the step ran once`).toMatchObject({
        attempts: 1,
        output: { n: burst },
      });
    }
    expect((await executionsOf(workflowId)).map((e) => e.executionId).sort()).toEqual(executions.sort());
  });

  it('input failing the inputSchema (400 naming input.<field>), an unknown environment (400), no version in the environment (409): nothing starts', async () => {
    // Prepare
    const workflowId = await deployWorkflow(
      admin,
      workflowBody(
        { done: { type: 'succeed' } },
        {
          inputSchema: {
            type: 'object',
            required: ['orderId'],
            properties: { orderId: { type: 'string' }, qty: { type: 'integer' } },
          },
        },
      ),
    );
    // Act
    const wrongType = await postExecution(asAdmin(), workflowId, { orderId: 42, qty: 'many' });
    const missing = await postExecution(asAdmin(), workflowId, { qty: 1 });
    const unknownEnvironment = await call<Problem>('POST', `/workflows/${workflowId}/executions`, {
      token: admin,
      body: { input: { orderId: 'o-1' }, environment: 'qa' },
    });
    const notPromoted = await postExecution(
      asAdmin(),
      workflowId,
      { orderId: 'o-1' },
      { environment: 'prod' },
    );
    const unknownWorkflow = await postExecution(asAdmin(), 'w0000000000000000', { orderId: 'o-1' });
    // Assess
    const paths = (r: ApiResponse<unknown>) => (problem(r).errors ?? []).map((e) => e.path).sort();
    expectProblem(wrongType, 400);
    expect(paths(wrongType)).toEqual(['input.orderId', 'input.qty']);
    expectProblem(missing, 400);
    expect(paths(missing)).toEqual(['input.orderId']);
    expectProblem(unknownEnvironment, 400);
    expect(paths(unknownEnvironment)).toEqual(['environment']);
    expectProblem(notPromoted, 409);
    expect(problem(notPromoted).detail).toContain('prod');
    expectProblem(unknownWorkflow, 404);
    expect(await executionsOf(workflowId)).toEqual([]);
  });
});

describe('SSRF guard', () => {
  it('allowPrivateNetwork is refused at save: private egress is the platform allowlist, not a tenant flag', async () => {
    // Act
    const flagged = await call<Problem>('POST', '/tools', {
      token: admin,
      body: httpToolBody(`${tools.url}/x`, { allowPrivateNetwork: true }),
    });
    // Assess
    expectProblem(flagged, 400);
    expect(flagged.body.errors).toEqual([
      { path: 'allowPrivateNetwork', message: expect.stringContaining('platform admin') },
    ]);
  });

  it('a host name that resolves to a private address is refused at run time: Tool.Refused on the step', async () => {
    // Act
    const execution = await waitForStatus(asAdmin(), run('refused'), 'FAILED');
    // Assess
    expect(stepOf(execution, 'call')).toMatchObject({
      status: 'FAILED',
      error: { error: 'Tool.Refused', cause: expect.stringContaining(`${disguised.host} resolves to`) },
    });
    expect(execution.error?.error).toBe('Tool.Refused');
  });
});

describe('OpenAI-compatible provider: cost, usage and secrets', () => {
  let model: LocalServer;
  afterAll(async () => {
    await model?.close();
  });

  it('step costs come from the price table; the execution and GET /usage sum them exactly; the key reaches the server only', async () => {
    // Prepare: a fresh tenant (so its usage is known), a secret, an openai agent on a local server
    const owner = await createTenant('cost');
    const token = await owner.token();
    const secretValue = `sk-test-${uniqueName('secret')}`;
    const usageOf = (body: string): UsageView =>
      body.includes('FIRST')
        ? { inputTokens: 1200, outputTokens: 300 }
        : { inputTokens: 800, outputTokens: 100 };
    model = await startLocalServer(
      (request) => ({
        status: 200,
        body: chatCompletion('{"ok":true}', usageOf(request.body)),
      }),
      ALLOWED_LOOPBACK,
    );
    await allowEgress(owner.tenantId);
    await expectCall(201, 'PUT', '/secrets/openai-key', { token, body: { value: secretValue } });
    const agentId = await createAgent(token, {
      name: uniqueName('gpt'),
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: `${model.url}/v1`,
      apiKeySecret: 'openai-key',
    });
    const workflowId = await deployWorkflow(
      token,
      workflowBody({
        first: { type: 'agent', agentId, prompt: 'FIRST {{input.topic}}', next: 'second' },
        second: { type: 'agent', agentId, prompt: 'SECOND {{steps.first.output.text}}', end: true },
      }),
    );
    const before = await expectCall<UsageReport>(200, 'GET', '/usage', { token });
    // Act
    const executionId = await startExecution({ token }, workflowId, { topic: 'prices' });
    const execution = await waitForStatus({ token }, executionId, 'SUCCEEDED');
    const after = await expectCall<UsageReport>(200, 'GET', '/usage', { token });
    // Assess: gpt-4o-mini costs $0.15 / $0.60 per million input / output tokens
    // first: 1200 × 0.15 + 300 × 0.60 = 360 micros; second: 800 × 0.15 + 100 × 0.60 = 180 micros
    expect(stepOf(execution, 'first')).toMatchObject({
      usage: { inputTokens: 1200, outputTokens: 300 },
      costUsd: '0.000360',
      output: { text: '{"ok":true}', data: { ok: true }, costUsd: '0.000360' },
    });
    expect(stepOf(execution, 'second')).toMatchObject({
      usage: { inputTokens: 800, outputTokens: 100 },
      costUsd: '0.000180',
    });
    expect(execution).toMatchObject({
      usage: { inputTokens: 2000, outputTokens: 400 },
      costUsd: '0.000540',
      costMicros: 540,
    });
    expect(before.body.total).toEqual({
      executions: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: '0.000000',
      costMicros: 0,
    });
    expect(after.body.total).toEqual({
      executions: 1,
      inputTokens: 2000,
      outputTokens: 400,
      costUsd: '0.000540',
      costMicros: 540,
    });
    expect(after.body.byWorkflow).toEqual([
      {
        id: workflowId,
        executions: 1,
        inputTokens: 2000,
        outputTokens: 400,
        costUsd: '0.000540',
        costMicros: 540,
      },
    ]);
    expect(after.body.byAgent).toEqual([
      expect.objectContaining({ id: agentId, inputTokens: 2000, outputTokens: 400, costMicros: 540 }),
    ]);
    // The key: sent as a bearer token to the model server, never shown by the API or logged
    expect(model.requests).toHaveLength(2);
    for (const request of model.requests) {
      expect(request.path).toBe('/v1/chat/completions');
      expect(request.headers.authorization).toBe(`Bearer ${secretValue}`);
    }
    const shown = await Promise.all(
      [
        `/executions/${executionId}`,
        `/executions?workflowId=${workflowId}`,
        `/agents/${agentId}`,
        `/agents/${agentId}/versions`,
        `/workflows/${workflowId}/versions/1`,
        '/secrets',
        '/usage',
        '/audit?limit=100',
      ].map(async (path) => (await expectCall(200, 'GET', path, { token })).text),
    );
    for (const text of shown) expect(text).not.toContain(secretValue);
    expect(readFileSync(inject('platformLogFile'), 'utf8')).not.toContain(secretValue);
  });
});

/** `GET /usage`. */
interface UsageCounters {
  readonly executions: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: string;
  readonly costMicros: number;
}
interface UsageReport {
  readonly month: string;
  readonly total: UsageCounters;
  readonly byWorkflow: (UsageCounters & { id: string })[];
  readonly byAgent: (UsageCounters & { id: string })[];
}

describe('provider circuit breaker', () => {
  let model: LocalServer;
  let failing = true;
  afterAll(async () => {
    await model?.close();
  });

  it('opens after the threshold of failures (the next attempt fails fast without a call) and closes after the cool-down', async () => {
    // Prepare: an endpoint that answers 500 until told otherwise
    model = await startLocalServer(
      () =>
        failing
          ? { status: 500, body: { error: { message: 'upstream exploded' } } }
          : { status: 200, body: chatCompletion('back again', { inputTokens: 5, outputTokens: 5 }) },
      ALLOWED_LOOPBACK,
    );
    const agentId = await createAgent(admin, {
      name: uniqueName('flaky-gpt'),
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: `${model.url}/v1`,
    });
    const ask = { type: 'agent', agentId, prompt: 'status?' };
    const [retrying, once] = await Promise.all([
      deployWorkflow(
        admin,
        workflowBody({ ask: { ...ask, retry: { maxAttempts: TEST_CIRCUIT_FAILURE_THRESHOLD }, end: true } }),
      ),
      deployWorkflow(admin, workflowBody({ ask: { ...ask, end: true } })),
    ]);
    // Act: threshold failing attempts open the circuit; the last retry finds it open
    const opened = await waitForStatus(asAdmin(), await startExecution(asAdmin(), retrying), 'FAILED');
    const callsWhenOpen = model.requests.length;
    // Assess
    expect(stepOf(opened, 'ask')).toMatchObject({
      status: 'FAILED',
      attempts: TEST_CIRCUIT_FAILURE_THRESHOLD + 1,
      error: { error: 'Provider.CircuitOpen' },
    });
    expect(opened.error?.error).toBe('Provider.CircuitOpen');
    expect(callsWhenOpen).toBe(TEST_CIRCUIT_FAILURE_THRESHOLD);

    // Act: the endpoint recovers; after the cool-down a probe call goes through and closes the circuit
    failing = false;
    await new Promise((resolve) => setTimeout(resolve, TEST_CIRCUIT_COOLDOWN_MS + 100));
    const probe = await waitForStatus(asAdmin(), await startExecution(asAdmin(), once), 'SUCCEEDED');
    const closed = await waitForStatus(asAdmin(), await startExecution(asAdmin(), once), 'SUCCEEDED');
    // Assess
    expect(stepOf(probe, 'ask').output).toMatchObject({ text: 'back again' });
    expect(stepOf(closed, 'ask')).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(model.requests).toHaveLength(TEST_CIRCUIT_FAILURE_THRESHOLD + 2);
  });
});
