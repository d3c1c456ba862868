/**
 * The state budget through a real run: the compiled ASL in aws-local-stepfunctions (which has no
 * 256 KiB limit, so the test measures every state itself), with the step runner behind every task.
 */
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '#core/catalog/model.ts';
import type { ExecutionStore } from '#core/executions/ports.ts';
import { jsonBytes, STATE_BUDGET_BYTES, STATE_LIMIT_BYTES } from '#core/executions/state-budget.ts';
import { runStep, type StepRunnerDeps, type StepTask } from '#core/executions/step-runner.ts';
import type { DefinitionKind } from '#core/versioning/model.ts';
import type { DefinitionStore } from '#core/versioning/ports.ts';
import { compileWorkflow } from '#core/workflows/compile.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import { runLocalStateMachine } from '../../../helpers/stepfunctions.ts';
import { APPROVAL_ARN, catalog, compileOptions, runInput, STEP_RUNNER_ARN, workflow } from './fixtures.ts';

const KIB = 1024;

const definition = validateWorkflow(
  workflow({
    fetch: { type: 'tool', toolId: 'search', args: { q: 'a' }, next: 'fetchMore' },
    fetchMore: { type: 'tool', toolId: 'search', args: { q: 'b' }, next: 'fetchAgain' },
    fetchAgain: { type: 'tool', toolId: 'search', args: { q: 'c' }, next: 'fetchLast' },
    fetchLast: { type: 'tool', toolId: 'search', args: { q: 'd' }, next: 'each' },
    each: {
      type: 'map',
      itemsPath: 'input.items',
      iterator: {
        startAt: 'summarize',
        steps: { summarize: { type: 'tool', toolId: 'weather', args: { city: '{{item}}' }, end: true } },
      },
      next: 'report',
    },
    report: { type: 'tool', toolId: 'search', args: { q: '{{steps.fetch.output.text}}' }, end: true },
  }),
  catalog,
);

/** Tool outputs by step: 60 KiB for each fetch, 12 KiB (in two-byte characters) per map item. */
const SIZES: Record<string, string> = {
  fetch: 'f'.repeat(60 * KIB),
  fetchMore: 'g'.repeat(60 * KIB),
  fetchAgain: 'h'.repeat(60 * KIB),
  fetchLast: 'i'.repeat(60 * KIB),
  summarize: 'é'.repeat(6 * KIB),
  report: 'done',
};

function stepRunner() {
  const artifacts = new Map<string, string>();
  const states: number[] = [];
  const definitions = {
    getVersion: async (_t: string, kind: DefinitionKind, id: string, version: number) => ({
      id,
      kind,
      version,
      definition: kind === 'workflow' ? definition : { name: id, type: 'builtin', builtin: 'echo' },
      pins: compileOptions.pins,
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
    tools: { run: async () => ({ text: SIZES[current] ?? '' }) },
    cost: () => ({ micros: 0 }),
    budgets: {} as StepRunnerDeps['budgets'],
    onBudgetAlert: () => undefined,
    now: () => new Date('2026-11-29T00:00:00Z'),
  };
  const handler = async (payload: JsonValue): Promise<JsonValue> => {
    const task = payload as unknown as StepTask;
    states.push(jsonBytes(payload));
    current = task.stepId;
    return (await runStep(deps, task)) as JsonValue;
  };
  return { handler, artifacts, states };
}

describe('state size through a compiled run', () => {
  it('several large outputs and a map of 30 results: every state stays under the limit', async () => {
    const runner = stepRunner();
    const items = Array.from({ length: 30 }, (_, i) => `city-${i}`);
    const start = runInput({ items });

    const result = await runLocalStateMachine(compileWorkflow(definition, compileOptions).asl, start, {
      executionName: start.context.executionId,
      handlers: { [STEP_RUNNER_ARN]: runner.handler, [APPROVAL_ARN]: () => ({}) },
    });

    expect(result.status).toBe('SUCCEEDED');
    // 30 × 12 KiB of map results and 240 KiB of fetches would be far past 256 KiB inline.
    expect(jsonBytes(result.output)).toBeLessThanOrEqual(STATE_BUDGET_BYTES);
    expect(Math.max(...runner.states)).toBeLessThan(STATE_LIMIT_BYTES);
    // What was moved out: the fetch that would have passed the budget, and the map's results.
    const steps = (result.output as { steps: Record<string, { output: Record<string, unknown> }> }).steps;
    const inline = ['fetch', 'fetchMore', 'fetchAgain', 'fetchLast'].map(
      (id) => 'text' in (steps[id]?.output ?? {}),
    );
    expect(inline).toEqual([true, true, true, false]);
    const results = steps.each?.output as unknown as { summarize: { output: { $ref?: string } } }[];
    expect(results).toHaveLength(30);
    expect(results.every((r) => typeof r.summarize.output.$ref === 'string')).toBe(true);
  });
});
