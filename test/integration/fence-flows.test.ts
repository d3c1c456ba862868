import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, type Problem } from '../helpers/api.ts';
import { ALLOWED_LOOPBACK, allowEgress } from '../helpers/egress.ts';
import { createTenant, type TestTenant } from '../helpers/tenants.ts';
import { platformAdminToken } from '../helpers/tokens.ts';
import {
  builtinToolBody,
  createAgent,
  createTool,
  deployWorkflow,
  type ExecutionView,
  httpToolBody,
  type LocalServer,
  postExecution,
  scriptedAgentBody,
  startExecution,
  startLocalServer,
  stepOf,
  waitForStatus,
  workflowBody,
} from '../helpers/workflows.ts';

/**
 * The tenant fence's data-flow holes, with two tenants on the local platform: what one tenant can put in
 * data (inputs, tool responses) must never make the platform read another tenant's data.
 */

const BUCKET = 'meridian-local-artifacts';
const SECRET = 'B-SECRET-';

let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  [a, b] = await Promise.all([createTenant('fence-a', 'enterprise'), createTenant('fence-b', 'enterprise')]);
}, 60_000);

describe('large-output references', () => {
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

describe('tenant regular expressions', () => {
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
    expect(ms).toBeLessThan(2000);
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

  it('patterns no linear-time engine can run are refused at save, naming the field', async () => {
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

describe('egress', () => {
  let server: LocalServer;
  const dynamodb = () => inject('dynamodbEndpoint');

  beforeAll(async () => {
    server = await startLocalServer(
      () => ({
        status: 200,
        body: {
          ok: true,
          choices: [{ message: { role: 'assistant', content: 'private model' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1 },
        },
      }),
      ALLOWED_LOOPBACK,
    );
  });

  afterAll(async () => {
    await server?.close();
  });

  /** Runs a one-tool-step workflow in `tenant` and returns the finished execution. */
  async function runTool(tenant: TestTenant, url: string): Promise<ExecutionView> {
    const token = await tenant.token();
    const toolId = await createTool(token, httpToolBody(url, { method: 'GET' }, 'egress-tool'));
    const workflowId = await deployWorkflow(
      token,
      workflowBody({ call: { type: 'tool', toolId, args: {}, end: true } }),
    );
    const executionId = await startExecution({ token }, workflowId, {});
    const execution = await waitForStatus({ token }, executionId, 'FAILED', 30_000).catch(() =>
      waitForStatus({ token }, executionId, 'SUCCEEDED', 5_000),
    );
    return execution;
  }

  /** Runs a one-agent-step workflow with an OpenAI-compatible agent on `baseUrl`. */
  async function runAgent(tenant: TestTenant, baseUrl: string): Promise<ExecutionView> {
    const token = await tenant.token();
    const agentId = await createAgent(token, {
      name: `egress-agent-${Math.random().toString(36).slice(2, 8)}`,
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl,
    });
    const workflowId = await deployWorkflow(
      token,
      workflowBody({ ask: { type: 'agent', agentId, prompt: 'hi', end: true } }),
    );
    const executionId = await startExecution({ token }, workflowId, {});
    return waitForStatus({ token }, executionId, 'FAILED', 30_000).catch(() =>
      waitForStatus({ token }, executionId, 'SUCCEEDED', 5_000),
    );
  }

  it('a tenant cannot set allowPrivateNetwork, and a tool cannot reach the local DynamoDB endpoint', async () => {
    const token = await a.token();
    const flagged = await call<Problem>('POST', '/tools', {
      token,
      body: httpToolBody(`${dynamodb()}/`, { allowPrivateNetwork: true }),
    });
    expect(flagged.status).toBe(400);
    expect(flagged.body.errors?.map((e) => e.path)).toEqual(['allowPrivateNetwork']);
    // Plain http is refused before any connection; over https the address itself is refused.
    const plain = await runTool(a, `${dynamodb()}/`);
    const tls = await runTool(a, `${dynamodb().replace('http:', 'https:')}/`);
    expect(stepOf(plain, 'call').error).toMatchObject({
      error: 'Tool.Refused',
      cause: expect.stringMatching(/http: URLs are refused/),
    });
    expect(stepOf(tls, 'call').error).toMatchObject({
      error: 'Tool.Refused',
      cause: expect.stringMatching(/resolves to 127\.0\.0\.1 \(loopback\)/),
    });
  });

  it('a tenant cannot read or set its own egress allowlist', async () => {
    const token = await a.token();
    const put = await call<Problem>('PUT', `/tenants/${a.tenantId}/egress`, {
      token,
      body: { allow: ['0.0.0.0/8', '127.0.0.0/8'] },
    });
    const get = await call<Problem>('GET', `/tenants/${a.tenantId}/egress`, { token });
    expect(put.status).toBe(403);
    expect(get.status).toBe(403);
  });

  it('a platform admin allowlists a private destination for one tenant only', async () => {
    const platform = await platformAdminToken();
    const bad = await call<Problem>('PUT', `/tenants/${b.tenantId}/egress`, {
      token: platform,
      body: { allow: [ALLOWED_LOOPBACK, '0.0.0.0/0', 'not a host'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.map((e) => e.path)).toEqual(['allow.1', 'allow.2']);
    await allowEgress(b.tenantId, [ALLOWED_LOOPBACK]);
    const read = await call<{ allow: string[] }>('GET', `/tenants/${b.tenantId}/egress`, { token: platform });
    expect(read.body.allow).toEqual([ALLOWED_LOOPBACK]);

    const allowed = await runTool(b, `${server.url}/tool`);
    const refused = await runTool(a, `${server.url}/tool`);
    expect(allowed.status).toBe('SUCCEEDED');
    expect(refused.status).toBe('FAILED');
    expect(stepOf(refused, 'call').error?.error).toBe('Tool.Refused');
    expect(server.requestsTo('/tool')).toHaveLength(1);
    // The allowlist opens that address, not the platform's own emulators on 127.0.0.1.
    const emulator = await runTool(b, `${dynamodb()}/`);
    expect(stepOf(emulator, 'call').error?.error).toBe('Tool.Refused');
  });

  it('an OpenAI-compatible baseUrl goes through the same guard: loopback, private and metadata refused', async () => {
    const before = server.requests.length;
    for (const baseUrl of [
      `${dynamodb()}/v1`,
      'https://10.0.0.5/v1',
      'https://169.254.169.254/v1',
      `${server.url}/v1`,
    ]) {
      const execution = await runAgent(a, baseUrl);
      expect(execution.status).toBe('FAILED');
      expect(stepOf(execution, 'ask').error).toMatchObject({
        error: 'Provider.ClientError',
        cause: expect.stringMatching(/refused/),
      });
    }
    expect(server.requests.length).toBe(before);
    // Tenant B's allowlist lets its agent reach the same server.
    const allowed = await runAgent(b, `${server.url}/v1`);
    expect(allowed.status).toBe('SUCCEEDED');
    expect(server.requestsTo('/v1/chat/completions')).toHaveLength(1);
  });

  it('a "?" or "#" in the base URL is refused at save, naming baseUrl', async () => {
    const token = await a.token();
    for (const baseUrl of ['https://api.example.com/v1?x=/../../admin', 'https://api.example.com/v1#']) {
      const response = await call<Problem>('POST', '/agents', {
        token,
        body: { name: `q-agent-${baseUrl.length}`, provider: 'openai', model: 'gpt-4o-mini', baseUrl },
      });
      expect(response.status).toBe(400);
      expect(response.body.errors?.map((e) => e.path)).toEqual(['baseUrl']);
    }
  });
});
