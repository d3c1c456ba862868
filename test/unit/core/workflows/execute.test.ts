/**
 * Compiled workflows executed in aws-local-stepfunctions (through test/helpers/stepfunctions.ts)
 * with a fake step runner and approval handler: routing, parallel merge, map, retries, catch, fail,
 * and the run context every step receives.
 */
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '#core/catalog/model.ts';
import { compileWorkflow } from '#core/workflows/compile.ts';
import type { WorkflowDefinition } from '#core/workflows/model.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import {
  type LocalEvent,
  type LocalHandler,
  runLocalStateMachine,
  taskError,
} from '../../../helpers/stepfunctions.ts';
import {
  APPROVAL_ARN,
  catalog,
  compileOptions,
  EXAMPLES,
  type RunContextJson,
  runContext,
  runInput,
  STEP_RUNNER_ARN,
} from './fixtures.ts';

/** What the fake runner receives: the compiled task's Payload. */
interface RunnerPayload {
  kind: string;
  stepId: string;
  workflowId: string;
  workflowVersion: number;
  executionId: string;
  ref: { id: string; version: number };
  prompt?: string;
  args?: Record<string, JsonValue>;
  state: {
    input: Record<string, JsonValue>;
    steps: Record<string, JsonValue>;
    context: RunContextJson;
    item?: JsonValue;
    index?: number;
  };
}

/** What the fake approval handler receives: the compiled approval task's Payload. */
interface ApprovalPayload {
  stepId: string;
  timeoutSeconds?: number;
  context: RunContextJson;
}

type Reply = (payload: RunnerPayload) => JsonValue | Promise<JsonValue>;

/** A fake step runner: answers `{text: 'ok:<stepId>'}` unless `replies` says otherwise; records calls. */
function fakeRunner(replies: Record<string, Reply> = {}) {
  const calls: RunnerPayload[] = [];
  const handler: LocalHandler = async (payload) => {
    const call = payload as unknown as RunnerPayload;
    calls.push(structuredClone(call));
    const reply = replies[call.stepId];
    return reply ? reply(call) : { text: `ok:${call.stepId}` };
  };
  return { handler, calls };
}

/** Runs `def` on `input`, with the run context {@link runContext}(`context`). */
async function run(
  def: WorkflowDefinition,
  input: Record<string, JsonValue>,
  handlers: { runner?: LocalHandler; approval?: LocalHandler } = {},
  context: Partial<RunContextJson> = {},
) {
  const compiled = compileWorkflow(validateWorkflow(def, catalog), compileOptions);
  const start = runInput(input, context);
  return runLocalStateMachine(compiled.asl, start, {
    // As in AWS, the execution is named after its id.
    executionName: start.context.executionId,
    handlers: {
      [STEP_RUNNER_ARN]: handlers.runner ?? fakeRunner().handler,
      [APPROVAL_ARN]: handlers.approval ?? (() => ({ output: { decision: 'approve', decidedBy: 'u1' } })),
    },
  });
}

function entered(events: readonly LocalEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'StateEntered' ? [e.state.name] : []));
}

describe('agent and tool steps', () => {
  it('calls the runner with pinned refs, raw templates and the state so far, and records outputs', async () => {
    // Prepare
    const runner = fakeRunner({ draft: () => ({ text: 'a draft', data: { words: 2 } }) });

    // Act
    const result = await run(
      EXAMPLES.agentAndTool,
      { topic: 'rain', city: 'Oslo' },
      { runner: runner.handler },
    );

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(runner.calls).toEqual([
      {
        kind: 'agent',
        stepId: 'draft',
        workflowId: 'wf1',
        workflowVersion: 7,
        executionId: 'exec-1',
        ref: { id: 'writer', version: 3 },
        prompt: 'Write about {{input.topic}}',
        state: { input: { topic: 'rain', city: 'Oslo' }, steps: {}, context: runContext() },
      },
      {
        kind: 'tool',
        stepId: 'lookup',
        workflowId: 'wf1',
        workflowVersion: 7,
        executionId: 'exec-1',
        ref: { id: 'weather', version: 2 },
        args: { city: '{{input.city}}', note: '{{steps.draft.output.text}}', units: ['metric'] },
        state: {
          input: { topic: 'rain', city: 'Oslo' },
          steps: { draft: { output: { text: 'a draft', data: { words: 2 } } } },
          context: runContext(),
        },
      },
    ]);
    expect(result.output).toEqual({
      input: { topic: 'rain', city: 'Oslo' },
      steps: {
        draft: { output: { text: 'a draft', data: { words: 2 } } },
        lookup: { output: { text: 'ok:lookup' } },
      },
      context: runContext(),
    });
  });
});

interface RoutingCase {
  name: string;
  score: JsonValue | undefined;
  input: Record<string, JsonValue>;
  text: string;
  expected: string;
}

describe('choice routing', () => {
  describe.each<RoutingCase>([
    { name: 'numeric greaterThan', score: 9, input: {}, text: 'calm', expected: 'high' },
    { name: 'and + not exists', score: 1, input: { lang: 'fr' }, text: 'calm', expected: 'french' },
    { name: 'and fails on not', score: 1, input: { lang: 'fr', vip: true }, text: 'calm', expected: 'low' },
    { name: 'contains with a literal *', score: 1, input: {}, text: 'very urgent* now', expected: 'urgent' },
    { name: 'contains needs the literal *', score: 1, input: {}, text: 'very urgent now', expected: 'low' },
    { name: 'or: boolean equals', score: 1, input: { flag: true }, text: 'calm', expected: 'flagged' },
    { name: 'or: equals null', score: 1, input: { note: null }, text: 'calm', expected: 'flagged' },
    {
      name: 'missing value is false, not an error',
      score: undefined,
      input: {},
      text: 'calm',
      expected: 'low',
    },
    { name: 'wrong type is false, not an error', score: 'nine', input: {}, text: 'calm', expected: 'low' },
  ])('$name', ({ score, input, text, expected }) => {
    it(`goes to ${expected}`, async () => {
      // Prepare
      const data: Record<string, JsonValue> = score === undefined ? {} : { score };
      const runner = fakeRunner({ classify: () => ({ text, data }) });

      // Act
      const result = await run(EXAMPLES.choice, { text: 'hello', ...input }, { runner: runner.handler });

      // Assess
      expect(result.status).toBe('SUCCEEDED');
      expect(entered(result.events)).toEqual(['classify', 'route', expected]);
    });
  });
});

describe('parallel', () => {
  it('merges every branch into steps so a later step reads branch outputs', async () => {
    // Prepare
    const runner = fakeRunner();

    // Act
    const result = await run(EXAMPLES.parallel, { city: 'Lima' }, { runner: runner.handler });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const report = runner.calls.find((c) => c.stepId === 'report');
    expect(report?.state.steps).toEqual({
      weather: { output: { text: 'ok:weather' } },
      news: { output: { text: 'ok:news' } },
      summary: { output: { text: 'ok:summary' } },
    });
    expect(result.output).toEqual({
      input: { city: 'Lima' },
      steps: {
        weather: { output: { text: 'ok:weather' } },
        news: { output: { text: 'ok:news' } },
        summary: { output: { text: 'ok:summary' } },
        report: { output: { text: 'ok:report' } },
      },
      context: runContext(),
    });
  });

  it('runs a parallel inside a map iterator and keeps the item and outer steps', async () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'nested',
      startAt: 'first',
      steps: {
        first: { type: 'tool', toolId: 'search', args: {}, next: 'each' },
        each: {
          type: 'map',
          itemsPath: 'input.items',
          iterator: {
            startAt: 'fan',
            steps: {
              fan: {
                type: 'parallel',
                branches: [
                  { startAt: 'a', steps: { a: { type: 'tool', toolId: 'weather', args: {}, end: true } } },
                  { startAt: 'b', steps: { b: { type: 'tool', toolId: 'weather', args: {}, end: true } } },
                ],
                next: 'after',
              },
              after: {
                type: 'agent',
                agentId: 'writer',
                prompt: '{{item}} {{steps.a.output.text}}',
                end: true,
              },
            },
          },
          end: true,
        },
      },
    };
    const runner = fakeRunner();

    // Act
    const result = await run(def, { items: ['x', 'y'] }, { runner: runner.handler });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const afterCalls = runner.calls.filter((c) => c.stepId === 'after').map((c) => c.state);
    expect(afterCalls).toContainEqual({
      input: { items: ['x', 'y'] },
      item: 'y',
      index: 1,
      context: runContext(),
      steps: {
        first: { output: { text: 'ok:first' } },
        a: { output: { text: 'ok:a' } },
        b: { output: { text: 'ok:b' } },
      },
    });
    expect(result.output).toEqual({
      input: { items: ['x', 'y'] },
      steps: {
        first: { output: { text: 'ok:first' } },
        each: {
          output: [
            {
              a: { output: { text: 'ok:a' } },
              b: { output: { text: 'ok:b' } },
              after: { output: { text: 'ok:after' } },
            },
            {
              a: { output: { text: 'ok:a' } },
              b: { output: { text: 'ok:b' } },
              after: { output: { text: 'ok:after' } },
            },
          ],
        },
      },
      context: runContext(),
    });
  });
});

/** Rows, then cells per row; `cell` fails the run unless it sees the outer steps `first` and `row`. */
const NESTED_MAPS: WorkflowDefinition = {
  name: 'nested maps',
  startAt: 'first',
  steps: {
    first: { type: 'tool', toolId: 'search', args: {}, next: 'rows' },
    rows: {
      type: 'map',
      itemsPath: 'input.rows',
      iterator: {
        startAt: 'row',
        steps: {
          row: { type: 'tool', toolId: 'search', args: { r: '{{item.name}}' }, next: 'cells' },
          cells: {
            type: 'map',
            itemsPath: 'item.cells',
            iterator: {
              startAt: 'gate',
              steps: {
                gate: {
                  type: 'choice',
                  choices: [
                    {
                      when: {
                        and: [
                          { path: 'steps.first.output.text', equals: 'ok:first' },
                          { path: 'steps.row.output.text', equals: 'ok:row' },
                        ],
                      },
                      next: 'cell',
                    },
                  ],
                  default: 'no',
                },
                cell: { type: 'agent', agentId: 'writer', prompt: '{{item}}', end: true },
                no: { type: 'fail', error: 'OuterStepsMissing' },
              },
            },
            end: true,
          },
        },
      },
      end: true,
    },
  },
};

describe('map', () => {
  it('runs the iterator per item, at most maxConcurrency at once, and outputs each iteration’s steps', async () => {
    // Prepare
    let inFlight = 0;
    let peak = 0;
    const runner = fakeRunner({
      prep: () => ({ text: 'hint', data: { short: false } }),
      enrich: async (p) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return { text: `weather of ${JSON.stringify(p.state.item)}` };
      },
    });
    const items: JsonValue[] = [{ city: 'A' }, { city: 'B', skip: true }, { city: 'C' }, { city: 'D' }];

    // Act
    const result = await run(EXAMPLES.map, { q: 'cities', items }, { runner: runner.handler });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(peak).toBe(2);
    const enrichItems = runner.calls.filter((c) => c.stepId === 'enrich').map((c) => c.state.item);
    expect(enrichItems).toEqual(expect.arrayContaining(items));
    // Outer steps are visible in the iteration's state; the iteration's own steps join them.
    const write = runner.calls.find(
      (c) => c.stepId === 'write' && JSON.stringify(c.state.item) === '{"city":"A"}',
    );
    expect(write?.state.steps).toEqual({
      prep: { output: { text: 'hint', data: { short: false } } },
      enrich: { output: { text: 'weather of {"city":"A"}' } },
    });
    const output = result.output as { steps: Record<string, unknown> };
    expect(output.steps.each).toEqual({
      output: [
        { enrich: { output: { text: 'weather of {"city":"A"}' } }, write: { output: { text: 'ok:write' } } },
        { enrich: { output: { text: 'weather of {"city":"B","skip":true}' } } },
        { enrich: { output: { text: 'weather of {"city":"C"}' } }, write: { output: { text: 'ok:write' } } },
        { enrich: { output: { text: 'weather of {"city":"D"}' } }, write: { output: { text: 'ok:write' } } },
      ],
    });
  });

  it('routes on an outer step inside the iterator', async () => {
    // Prepare
    const runner = fakeRunner({ prep: () => ({ text: 'hint', data: { short: true } }) });

    // Act
    const result = await run(EXAMPLES.map, { q: 'x', items: [{ city: 'A' }] }, { runner: runner.handler });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(entered(result.events)).toEqual(['prep', 'each', 'enrich', 'check', 'skipped', 'wrap']);
  });

  it('runs a map inside a map: the inner iteration sees both items’ outer steps', async () => {
    // Prepare
    const runner = fakeRunner({ cell: (p) => ({ text: `cell ${JSON.stringify(p.state.item)}` }) });

    // Act
    const result = await run(
      NESTED_MAPS,
      { rows: [{ name: 'r1', cells: [1, 2] }] },
      { runner: runner.handler },
    );

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const cellCall = runner.calls.find((c) => c.stepId === 'cell');
    expect(cellCall?.state.steps).toEqual({
      first: { output: { text: 'ok:first' } },
      row: { output: { text: 'ok:row' } },
    });
    expect((result.output as { steps: Record<string, unknown> }).steps.rows).toEqual({
      output: [
        {
          row: { output: { text: 'ok:row' } },
          cells: {
            output: [{ cell: { output: { text: 'cell 1' } } }, { cell: { output: { text: 'cell 2' } } }],
          },
        },
      ],
    });
  });

  it('outputs an empty list for no items', async () => {
    // Prepare
    const runner = fakeRunner();

    // Act
    const result = await run(EXAMPLES.map, { q: 'x', items: [] }, { runner: runner.handler });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { steps: Record<string, unknown> }).steps.each).toEqual({ output: [] });
  });
});

describe('retry and catch', () => {
  it('retries a failing step, then succeeds', async () => {
    // Prepare
    let attempts = 0;
    const runner = fakeRunner({
      call: () => {
        attempts++;
        if (attempts <= 2) throw taskError('Tool.Flaky', `attempt ${attempts}`);
        return { text: 'finally' };
      },
    });

    // Act
    const result = await run(EXAMPLES.retryCatch, { city: 'Rome' }, { runner: runner.handler });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(attempts).toBe(3);
    expect(result.events.filter((e) => e.type === 'StateRetried')).toHaveLength(2);
    // The emulator logs one StateEntered per state and one StateRetried per retry.
    expect(entered(result.events)).toEqual(['call', 'done']);
    expect((result.output as { steps: Record<string, unknown> }).steps.call).toEqual({
      output: { text: 'finally' },
    });
  });

  describe.each([
    { error: 'Tool.Failed', handler: 'fallback', status: 'SUCCEEDED' },
    { error: 'Something.Else', handler: 'broken', status: 'FAILED' },
  ])('when every attempt fails with $error', ({ error, handler, status }) => {
    it(`exhausts the retries, then catches into ${handler} with the error recorded`, async () => {
      // Prepare
      let attempts = 0;
      const runner = fakeRunner({
        call: () => {
          attempts++;
          throw taskError(error, 'no data');
        },
      });

      // Act
      const result = await run(EXAMPLES.retryCatch, { city: 'Rome' }, { runner: runner.handler });

      // Assess
      expect(attempts).toBe(3);
      expect(result.status).toBe(status);
      expect(entered(result.events).at(-1)).toBe(handler);
      const fallbackCall = runner.calls.find((c) => c.stepId === 'fallback');
      if (handler === 'fallback') {
        expect(fallbackCall?.state.steps).toEqual({
          call: { error: { Error: 'Tool.Failed', Cause: 'no data' } },
        });
      } else {
        expect(result.error).toEqual({ error: 'Broken', cause: 'unexpected failure' });
      }
    });
  });
});

describe('terminal and pausing steps', () => {
  it('fails the execution with the fail step’s error and cause', async () => {
    // Act
    const result = await run(EXAMPLES.fail, {});

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toEqual({ error: 'Boom', cause: 'nothing to do' });
  });

  it('does not really wait (waits are overridden to 0 ms locally)', async () => {
    // Prepare
    const started = performance.now();

    // Act
    const result = await run(EXAMPLES.wait, {});

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(entered(result.events)).toEqual(['pause', 'done']);
  });

  it('loops through a wait until a tool reports done', async () => {
    // Prepare
    let polls = 0;
    const runner = fakeRunner({ check: () => ({ text: 'status', data: { done: ++polls === 3 } }) });

    // Act
    const result = await run(EXAMPLES.pollLoop, {}, { runner: runner.handler });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(polls).toBe(3);
    expect(entered(result.events).filter((name) => name === 'pause')).toHaveLength(2);
  });
});

describe('approval', () => {
  describe.each([
    { decision: 'approve', last: 'ship', status: 'SUCCEEDED' },
    { decision: 'reject', last: 'rejected', status: 'FAILED' },
  ])('when the approver decides $decision', ({ decision, last, status }) => {
    it(`continues to ${last}`, async () => {
      // Prepare
      const received: JsonValue[] = [];
      const approval: LocalHandler = (payload) => {
        received.push(payload);
        return { output: { decision, decidedBy: 'u1', comment: 'ok' } };
      };

      // Act
      const result = await run(EXAMPLES.approval, {}, { approval });

      // Assess
      expect(result.status).toBe(status);
      expect(entered(result.events).at(-1)).toBe(last);
      expect(received).toEqual([
        {
          taskToken: 'token-exec-1',
          executionId: 'exec-1',
          workflowId: 'wf1',
          workflowVersion: 7,
          stepId: 'ask',
          approvers: { roles: ['admin'], users: ['u1'] },
          allowRequesterApproval: false,
          message: 'Ship it?',
          timeoutSeconds: 3600,
          context: runContext(),
        },
      ]);
    });
  });

  it('catches an approval timeout', async () => {
    // Prepare
    const approval: LocalHandler = () => {
      throw taskError('States.Timeout', 'nobody decided');
    };

    // Act
    const result = await run(EXAMPLES.approval, {}, { approval });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error?.error).toBe('Expired');
  });
});

describe('run context', () => {
  it('gives an agent step inside a map iterator the run context and its item’s index', async () => {
    // Prepare
    const context = { tenantId: 'tenant-map', executionId: 'exec-map' };
    const runner = fakeRunner({ prep: () => ({ text: 'hint', data: { short: false } }) });
    const items: JsonValue[] = [{ city: 'A' }, { city: 'B', skip: true }, { city: 'C' }, { city: 'D' }];

    // Act
    const result = await run(EXAMPLES.map, { q: 'cities', items }, { runner: runner.handler }, context);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const writes = runner.calls
      .filter((c) => c.stepId === 'write')
      .map((c) => ({ item: c.state.item, index: c.state.index, tenantId: c.state.context.tenantId }))
      .sort((a, b) => Number(a.index) - Number(b.index));
    expect(writes).toEqual([
      { item: { city: 'A' }, index: 0, tenantId: 'tenant-map' },
      { item: { city: 'C' }, index: 2, tenantId: 'tenant-map' },
      { item: { city: 'D' }, index: 3, tenantId: 'tenant-map' },
    ]);
    // Every call, in or out of the iterator, carries the whole context of this run.
    expect(runner.calls).toHaveLength(1 + 4 + 3 + 1);
    for (const call of runner.calls) {
      expect(call.state.context).toEqual(runContext(context));
      expect(call.executionId).toBe('exec-map');
    }
    // Outside the iterator there is no index.
    expect(runner.calls.find((c) => c.stepId === 'wrap')?.state).not.toHaveProperty('index');
  });

  it('gives a step inside a map inside a map the inner item’s index and the run context', async () => {
    // Prepare
    const runner = fakeRunner();
    const rows = [
      { name: 'r1', cells: ['p', 'q'] },
      { name: 'r2', cells: ['s'] },
    ];

    // Act
    const result = await run(NESTED_MAPS, { rows }, { runner: runner.handler }, { tenantId: 'tenant-grid' });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const rowCalls = runner.calls
      .filter((c) => c.stepId === 'row')
      .map((c) => [c.state.item, c.state.index, c.state.context]);
    expect(rowCalls).toEqual(
      expect.arrayContaining([
        [rows[0], 0, runContext({ tenantId: 'tenant-grid' })],
        [rows[1], 1, runContext({ tenantId: 'tenant-grid' })],
      ]),
    );
    const cellCalls = runner.calls
      .filter((c) => c.stepId === 'cell')
      .map((c) => [c.state.item, c.state.index, c.state.context]);
    expect(cellCalls).toHaveLength(3);
    expect(cellCalls).toEqual(
      expect.arrayContaining([
        ['p', 0, runContext({ tenantId: 'tenant-grid' })],
        ['q', 1, runContext({ tenantId: 'tenant-grid' })],
        ['s', 0, runContext({ tenantId: 'tenant-grid' })],
      ]),
    );
  });

  it('still gives the run context to a step after a parallel, and to every branch', async () => {
    // Prepare
    const context = { tenantId: 'tenant-fan', teams: ['team-fan'], environment: 'prod' as const };
    const runner = fakeRunner();

    // Act
    const result = await run(EXAMPLES.parallel, { city: 'Lima' }, { runner: runner.handler }, context);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const report = runner.calls.find((c) => c.stepId === 'report');
    expect(report?.state.context).toEqual(runContext(context));
    expect(report?.state.context.tenantId).toBe('tenant-fan');
    expect(runner.calls.map((c) => c.stepId).sort()).toEqual(['news', 'report', 'summary', 'weather']);
    for (const call of runner.calls) expect(call.state.context).toEqual(runContext(context));
    expect((result.output as { context: unknown }).context).toEqual(runContext(context));
  });

  it('gives the approval handler the run context and the step’s timeout', async () => {
    // Prepare
    const context = { tenantId: 'tenant-ok', startedBy: 'user-bob', executionId: 'exec-ok' };
    const received: ApprovalPayload[] = [];
    const approval: LocalHandler = (payload) => {
      received.push(payload as unknown as ApprovalPayload);
      return { output: { decision: 'approve', decidedBy: 'u1', comment: 'ok' } };
    };
    const runner = fakeRunner();

    // Act
    const result = await run(EXAMPLES.approval, {}, { approval, runner: runner.handler }, context);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(received).toHaveLength(1);
    expect(received[0]?.stepId).toBe('ask');
    expect(received[0]?.timeoutSeconds).toBe(3600);
    expect(received[0]?.context).toEqual(runContext(context));
    // The step after the approval still runs for the same tenant.
    expect(runner.calls.map((c) => [c.stepId, c.state.context])).toEqual([['ship', runContext(context)]]);
  });

  it('gives an approval inside a map iterator the run context, and no timeout when it has none', async () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'approve each',
      startAt: 'each',
      steps: {
        each: {
          type: 'map',
          itemsPath: 'input.items',
          iterator: {
            startAt: 'ask',
            steps: { ask: { type: 'approval', approvers: { users: ['u1'] }, end: true } },
          },
          end: true,
        },
      },
    };
    const received: ApprovalPayload[] = [];
    const approval: LocalHandler = (payload) => {
      received.push(payload as unknown as ApprovalPayload);
      return { output: { decision: 'approve', decidedBy: 'u1' } };
    };

    // Act
    const result = await run(def, { items: [1, 2] }, { approval }, { tenantId: 'tenant-each' });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(received).toHaveLength(2);
    for (const payload of received) {
      expect(payload.context).toEqual(runContext({ tenantId: 'tenant-each' }));
      expect(payload).not.toHaveProperty('timeoutSeconds');
    }
  });
});
