import { describe, expect, it } from 'vitest';
import type { ToolDefinition } from '#core/catalog/model.ts';
import type { ExecutionStore } from '#core/executions/ports.ts';
import {
  decideOffload,
  INLINE_OUTPUT_LIMIT_BYTES,
  jsonBytes,
  STATE_BUDGET_BYTES,
  STATE_LIMIT_BYTES,
  UNKNOWN_MAP_INLINE_BYTES,
} from '#core/executions/state-budget.ts';
import { runStep, StepError, type StepRunnerDeps, type StepTask } from '#core/executions/step-runner.ts';
import type { DefinitionKind } from '#core/versioning/model.ts';
import type { DefinitionStore } from '#core/versioning/ports.ts';
import type { WorkflowDefinition } from '#core/workflows/model.ts';

const T = 'tabcdefghijklmnop';
const KIB = 1024;
const context = {
  tenantId: T,
  executionId: 'x1',
  workflowId: 'w1',
  workflowVersion: 1,
  environment: 'dev',
  startedBy: 'u',
  startedAt: '2026-11-29T00:00:00.000Z',
  teams: [],
};

/** Four tool steps in a row, and a map over `input.items` whose iterator runs one tool step. */
const WORKFLOW = {
  name: 'sizes',
  startAt: 'a',
  steps: {
    a: { type: 'tool', toolId: 'big', args: {}, next: 'b' },
    b: { type: 'tool', toolId: 'big', args: {}, next: 'c' },
    c: { type: 'tool', toolId: 'big', args: {}, next: 'd' },
    d: { type: 'tool', toolId: 'big', args: {}, next: 'each' },
    each: {
      type: 'map',
      itemsPath: 'input.items',
      iterator: { startAt: 'summarize', steps: { summarize: { type: 'tool', toolId: 'big', args: {} } } },
      next: 'elsewhere',
    },
    elsewhere: {
      type: 'map',
      itemsPath: 'steps.nowhere.output',
      iterator: { startAt: 'lost', steps: { lost: { type: 'tool', toolId: 'big', args: {} } } },
      next: 'three',
    },
    three: {
      type: 'parallel',
      branches: ['left', 'middle', 'right'].map((id) => ({
        startAt: id,
        steps: { [id]: { type: 'tool', toolId: 'big', args: {} } },
      })),
    },
  },
} as unknown as WorkflowDefinition;

/** A step runner whose tool returns `{text}` of the size the test asks for. */
function runner(textOf: (stepId: string) => string) {
  const artifacts = new Map<string, string>();
  const definitions = {
    getVersion: async (_t: string, kind: DefinitionKind, id: string, version: number) => ({
      id,
      kind,
      version,
      definition:
        kind === 'workflow' ? WORKFLOW : ({ name: 'big', type: 'builtin', builtin: 'echo' } as unknown),
      pins: { agents: {}, tools: { big: 1 } },
      createdAt: '',
      createdBy: '',
    }),
  } as unknown as DefinitionStore;
  let current = '';
  const deps: StepRunnerDeps = {
    executions: { startStep: async () => 1, finishStep: async () => undefined } as unknown as ExecutionStore,
    definitions,
    vault: { get: async () => undefined },
    artifacts: {
      put: async (_t: string, key: string, body: string) => {
        artifacts.set(`s3://b/${key}`, body);
        return `s3://b/${key}`;
      },
      // The port's shape, get(tenantId, key), read back from where put wrote.
      get: async (_t: string, key: string) => artifacts.get(`s3://b/${key}`) ?? '',
    },
    provider: () => {
      throw new Error('no agents here');
    },
    tools: { run: async (_tool: ToolDefinition) => ({ text: textOf(current) }) },
    cost: () => ({ micros: 0 }),
    budgets: {} as StepRunnerDeps['budgets'],
    onBudgetAlert: () => undefined,
    now: () => new Date('2026-11-29T00:00:00Z'),
  };
  const run = (stepId: string, state: Record<string, unknown>) => {
    current = stepId;
    const task: StepTask = {
      kind: 'tool',
      workflowId: 'w1',
      workflowVersion: 1,
      stepId,
      ref: { id: 'big', version: 1 },
      args: {},
      executionId: 'x1',
      state,
    };
    return runStep(deps, task);
  };
  return { run, artifacts };
}

const isRef = (output: unknown): boolean => typeof (output as { $ref?: unknown })?.$ref === 'string';

describe('state size accounting', () => {
  it('measures outputs in UTF-8 bytes, not string length', () => {
    const accented = 'é'.repeat(40 * KIB); // 40 Ki characters, 80 KiB in UTF-8
    expect(accented.length).toBeLessThan(INLINE_OUTPUT_LIMIT_BYTES);
    const decision = decideOffload({
      workflow: WORKFLOW,
      stepId: 'a',
      state: { steps: {} },
      output: accented,
    });
    expect(decision.outputBytes).toBe(jsonBytes(accented));
    expect(decision.outputBytes).toBeGreaterThan(80 * KIB);
    expect(decision.offload).toBe(true);
    expect(
      decideOffload({ workflow: WORKFLOW, stepId: 'a', state: { steps: {} }, output: 'e'.repeat(40 * KIB) })
        .offload,
    ).toBe(false);
  });

  it('several large outputs: each fits alone, and the state still stays under the budget', async () => {
    const { run } = runner(() => 'x'.repeat(60 * KIB));
    const state: Record<string, unknown> = { input: {}, steps: {}, context };
    const outputs: unknown[] = [];
    for (const id of ['a', 'b', 'c', 'd']) {
      const output = await run(id, state);
      outputs.push(output);
      state.steps = { ...(state.steps as object), [id]: { output } };
    }
    // The first three fit (about 180 KiB); the fourth would pass the budget, so it goes to S3.
    expect(outputs.map(isRef)).toEqual([false, false, false, true]);
    expect(jsonBytes(state)).toBeLessThanOrEqual(STATE_BUDGET_BYTES);
  });

  it.each([
    [5, 20 * KIB, false],
    [40, 20 * KIB, true],
  ])(
    "a map's combined results of %i items of %i bytes stay under the budget (offloaded: %s)",
    async (count, size, offloaded) => {
      const { run } = runner(() => 'y'.repeat(size));
      const items = Array.from({ length: count }, (_, i) => i);
      const outer = { a: { output: 'z'.repeat(30 * KIB) } };
      const results: unknown[] = [];
      for (const index of items) {
        const output = await run('summarize', {
          input: { items },
          item: index,
          index,
          steps: { ...outer },
          context,
        });
        results.push({ summarize: { output } });
      }
      expect(results.every((r) => isRef((r as { summarize: { output: unknown } }).summarize.output))).toBe(
        offloaded,
      );
      // The state after the map, as Step Functions assembles it.
      const after = { input: { items }, steps: { ...outer, each: { output: results } }, context };
      expect(jsonBytes(after)).toBeLessThanOrEqual(STATE_BUDGET_BYTES);
    },
  );

  it('a map whose item count cannot be read inlines only small outputs', () => {
    const decision = decideOffload({
      workflow: WORKFLOW,
      stepId: 'lost',
      state: { input: {}, steps: {}, index: 0, item: 1 },
      output: 'q'.repeat(UNKNOWN_MAP_INLINE_BYTES + 1),
    });
    expect(decision.offload).toBe(true);
  });

  it.each([
    [5 * KIB, false],
    [20 * KIB, true],
  ])(
    'a parallel step counts the outer state once per branch: a %i-byte output offloaded: %s',
    (size, offloaded) => {
      // Three branches of a 50 KiB state are 150 KiB of the raw result; each branch may add a third of the rest (14 KiB).
      const state = { input: { blob: 'b'.repeat(50 * KIB) }, steps: {} };
      const decision = decideOffload({
        workflow: WORKFLOW,
        stepId: 'middle',
        state,
        output: 'p'.repeat(size),
      });
      expect(decision.offload).toBe(offloaded);
      expect(decision.allowanceBytes).toBe(Math.floor((STATE_BUDGET_BYTES - 3 * jsonBytes(state)) / 3));
    },
  );

  it('fails with a catchable step error when even a reference would not fit', async () => {
    const { run } = runner(() => 'x'.repeat(10));
    const crowded = { input: { blob: 'w'.repeat(STATE_BUDGET_BYTES) }, steps: {}, context };
    const attempt = run('a', crowded);
    await expect(attempt).rejects.toBeInstanceOf(StepError);
    await expect(attempt).rejects.toMatchObject({ name: 'Step.StateTooLarge' });
    expect(STATE_BUDGET_BYTES).toBeLessThan(STATE_LIMIT_BYTES);
  });
});
