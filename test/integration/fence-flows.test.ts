import { beforeAll, describe, expect, it } from 'vitest';
import { call, type Problem } from '../helpers/api.ts';
import { createTenant, type TestTenant } from '../helpers/tenants.ts';
import {
  builtinToolBody,
  createAgent,
  createTool,
  deployWorkflow,
  type ExecutionView,
  postExecution,
  scriptedAgentBody,
  startExecution,
  stepOf,
  waitForStatus,
  workflowBody,
} from '../helpers/workflows.ts';

/**
 * Issue 8's data-flow holes, with two tenants on the local platform: what one tenant can put in
 * data (inputs, tool responses) must never make the platform read another tenant's data.
 */

const BUCKET = 'meridian-local-artifacts';
const SECRET = 'B-SECRET-';

let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  [a, b] = await Promise.all([createTenant('fence-a'), createTenant('fence-b')]);
}, 60_000);

describe('large-output references (issue 8, point 1)', () => {
  /** Tenant B's execution whose step `big` stored its output in the artifacts bucket. */
  let victim: ExecutionView;
  let victimUri: string;

  beforeAll(async () => {
    const token = await b.token();
    const echo = await createTool(token, builtinToolBody('echo', 'big-echo'));
    const workflowId = await deployWorkflow(
      token,
      workflowBody({
        big: { type: 'tool', toolId: echo, args: { a: '{{input.blob}}', b: '{{input.blob}}' }, end: true },
      }),
    );
    const blob = `${SECRET}${'x'.repeat(110_000)}`;
    const executionId = await startExecution({ token }, workflowId, { blob });
    victim = await waitForStatus({ token }, executionId, 'SUCCEEDED', 30_000);
    victimUri = `s3://${BUCKET}/tenants/${b.tenantId}/executions/${executionId}/big-1.json`;
  }, 60_000);

  it('the owner still reads its own large output through the API', () => {
    const output = stepOf(victim, 'big').output as { a?: string };
    expect(output.a?.startsWith(SECRET)).toBe(true);
    expect(JSON.stringify(victim.output)).toContain(SECRET);
  });

  it('a reference in step input is never resolved, by the API or by the step runner', async () => {
    const token = await a.token();
    const echo = await createTool(token, builtinToolBody('echo', 'forge-echo'));
    const workflowId = await deployWorkflow(
      token,
      workflowBody({
        // `forge` returns the input's reference as its own output, shaped like the platform's marker.
        forge: {
          type: 'tool',
          toolId: echo,
          args: { $ref: '{{input.ref}}', step: 'forge', size: 1 },
          next: 'read',
        },
        // `read` is a later step reading the forged "large output", which the runner would fetch.
        read: { type: 'tool', toolId: echo, args: { got: '{{steps.forge.output}}' }, end: true },
      }),
    );
    const executionId = await startExecution({ token }, workflowId, { ref: victimUri });
    const execution = await waitForStatus({ token }, executionId, 'SUCCEEDED', 30_000);
    expect(JSON.stringify(execution)).not.toContain(SECRET);
    expect(stepOf(execution, 'forge').output).toEqual({ $ref: victimUri, step: 'forge', size: 1 });
    expect(stepOf(execution, 'read').output).toEqual({ got: { $ref: victimUri, step: 'forge', size: 1 } });
  });

  it('a bare {"$ref"} returned by a tool is data, not a reference', async () => {
    const token = await a.token();
    const echo = await createTool(token, builtinToolBody('echo', 'bare-echo'));
    const workflowId = await deployWorkflow(
      token,
      workflowBody({
        bare: { type: 'tool', toolId: echo, args: { $ref: '{{input.ref}}' }, next: 'read' },
        read: { type: 'tool', toolId: echo, args: { got: '{{steps.bare.output}}' }, end: true },
      }),
    );
    const executionId = await startExecution({ token }, workflowId, { ref: victimUri });
    const execution = await waitForStatus({ token }, executionId, 'SUCCEEDED', 30_000);
    expect(JSON.stringify(execution)).not.toContain(SECRET);
    expect(stepOf(execution, 'bare').output).toEqual({ $ref: victimUri });
  });
});

describe('tenant regular expressions (issue 8, point 7)', () => {
  // 26 characters then a mismatch: seconds on a backtracking engine, for every tenant on the platform.
  const CATASTROPHIC = `${'a'.repeat(26)}!`;

  it('a workflow inputSchema pattern answers a catastrophic input at once, with 400 naming the field', async () => {
    const token = await a.token();
    const workflowId = await deployWorkflow(
      token,
      workflowBody(
        { done: { type: 'succeed' } },
        { inputSchema: { type: 'object', properties: { text: { type: 'string', pattern: '^(a+)+$' } } } },
      ),
    );
    const started = performance.now();
    const response = await postExecution({ token }, workflowId, { text: CATASTROPHIC });
    const ms = performance.now() - started;
    expect(response.status).toBe(400);
    expect(((response.body as unknown as Problem).errors ?? []).map((e) => e.path)).toEqual(['input.text']);
    expect(ms).toBeLessThan(1500);
  });

  it("a scripted agent's match runs in linear time on a catastrophic prompt", async () => {
    const token = await a.token();
    // Alternation overlap: a shape the old nested-quantifier screen let through.
    const agentId = await createAgent(
      token,
      scriptedAgentBody([{ match: '^(a|a)*$', reply: 'all a' }, { reply: 'other' }]),
    );
    const workflowId = await deployWorkflow(
      token,
      workflowBody({ ask: { type: 'agent', agentId, prompt: '{{input.text}}', end: true } }),
    );
    const started = performance.now();
    const executionId = await startExecution({ token }, workflowId, { text: CATASTROPHIC });
    const execution = await waitForStatus({ token }, executionId, 'SUCCEEDED', 30_000);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(stepOf(execution, 'ask').output).toMatchObject({ text: 'other' });
  });

  it('patterns RE2 cannot run are refused at save, naming the field', async () => {
    const token = await a.token();
    const workflow = await call<Problem>('POST', '/workflows', {
      token,
      body: workflowBody(
        { done: { type: 'succeed' } },
        {
          inputSchema: { type: 'object', properties: { text: { type: 'string', pattern: '^(?=.*\\d).+$' } } },
        },
      ),
    });
    expect(workflow.status).toBe(400);
    expect(workflow.headers.get('content-type')).toContain('application/problem+json');
    expect(workflow.body.errors?.map((e) => e.path)).toEqual(['inputSchema.properties.text.pattern']);
    const agent = await call<Problem>('POST', '/agents', {
      token,
      body: scriptedAgentBody([{ match: '^(a)\\1$', reply: 'x' }]),
    });
    expect(agent.status).toBe(400);
    expect(agent.body.errors?.map((e) => e.path)).toEqual(['script.0.match']);
  });
});
