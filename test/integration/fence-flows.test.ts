import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, type TestTenant } from '../helpers/tenants.ts';
import {
  builtinToolBody,
  createTool,
  deployWorkflow,
  type ExecutionView,
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
