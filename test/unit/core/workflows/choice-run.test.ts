/**
 * Choice conditions decided at run time in aws-local-stepfunctions: each operator on numbers,
 * strings and booleans, a missing value, and a map iterator whose choice reads the iteration's own
 * step (the path to that step checked where it matters: the iteration's `$.steps`, not the outer
 * steps). test/unit/mutation/choice-conditions.test.ts pins the exact ASL of each operator.
 */
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '#core/catalog/model.ts';
import { compileWorkflow } from '#core/workflows/compile.ts';
import type { Condition, WorkflowDefinition } from '#core/workflows/model.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import { type LocalHandler, runLocalStateMachine } from '../../../helpers/stepfunctions.ts';
import {
  APPROVAL_ARN,
  catalog,
  compileOptions,
  gated,
  runContext,
  runInput,
  STEP_RUNNER_ARN,
} from './fixtures.ts';

describe('choice conditions decide at run time (local engine)', () => {
  /** Runs {@link gated}(`when`) on `input` and says which branch ran. */
  async function branch(when: Condition, input: Record<string, JsonValue>): Promise<string[]> {
    const compiled = compileWorkflow(validateWorkflow(gated(when), catalog), compileOptions);
    const ran: string[] = [];
    const runner: LocalHandler = async (payload) => {
      ran.push(String((payload as { stepId: unknown }).stepId));
      return { text: 'ok' };
    };
    const start = runInput(input);
    const result = await runLocalStateMachine(compiled.asl, start, {
      executionName: start.context.executionId,
      handlers: { [STEP_RUNNER_ARN]: runner, [APPROVAL_ARN]: () => ({}) },
    });
    expect(result.status).toBe('SUCCEEDED');
    return ran;
  }

  it.each([
    ['a larger number', { path: 'input.v', greaterThan: 3 }, 4, ['yes']],
    ['an equal number', { path: 'input.v', greaterThan: 3 }, 3, ['no']],
    ['a smaller number', { path: 'input.v', lessThan: 3 }, 2, ['yes']],
    ['a number against a string bound', { path: 'input.v', greaterThan: 'a' }, 4, ['no']],
    ['a later string', { path: 'input.v', greaterThan: 'm' }, 'z', ['yes']],
    ['an earlier string', { path: 'input.v', lessThan: 'm' }, 'a', ['yes']],
    ['the string "true" against true', { path: 'input.v', equals: true }, 'true', ['no']],
    ['false against false', { path: 'input.v', equals: false }, false, ['yes']],
    ['the string "4" against 4', { path: 'input.v', equals: 4 }, '4', ['no']],
    ['a literal star', { path: 'input.v', contains: '*' }, 'a*b', ['yes']],
    ['no star', { path: 'input.v', contains: '*' }, 'ab', ['no']],
  ] as Array<[string, Condition, JsonValue, string[]]>)('%s', async (_name, when, value, expected) => {
    // Act
    const ran = await branch(when, { v: value });
    // Assess
    expect(ran).toEqual(expected);
  });

  it('treats a missing value as false, not as a runtime error', async () => {
    // Act
    const ran = await branch({ path: 'input.v', greaterThan: 3 }, {});
    // Assess
    expect(ran).toEqual(['no']);
  });
});

describe('a map iterator whose choice reads its own steps', () => {
  it('routes each iteration on that iteration’s step output, run in the local engine', async () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'sort',
      startAt: 'each',
      steps: {
        each: {
          type: 'map',
          itemsPath: 'input.items',
          iterator: {
            startAt: 'classify',
            steps: {
              classify: { type: 'agent', agentId: 'classifier', prompt: '{{item}}', next: 'gate' },
              gate: {
                type: 'choice',
                choices: [{ when: { path: 'steps.classify.output.text', equals: 'keep' }, next: 'keep' }],
                default: 'drop',
              },
              keep: { type: 'agent', agentId: 'writer', prompt: 'keep {{item}}', end: true },
              drop: { type: 'tool', toolId: 'search', args: {}, end: true },
            },
          },
          end: true,
        },
      },
    };
    const compiled = compileWorkflow(validateWorkflow(def, catalog), compileOptions);
    const calls: Array<{ stepId: string; item: JsonValue }> = [];
    const runner: LocalHandler = async (payload) => {
      const p = payload as unknown as { stepId: string; state: { item: JsonValue } };
      calls.push({ stepId: p.stepId, item: p.state.item });
      if (p.stepId === 'classify') return { text: p.state.item === 'good' ? 'keep' : 'discard' };
      return { text: `ran:${p.stepId}` };
    };
    const start = runInput({ items: ['good', 'bad'] });

    // Act
    const result = await runLocalStateMachine(compiled.asl, start, {
      executionName: start.context.executionId,
      handlers: { [STEP_RUNNER_ARN]: runner, [APPROVAL_ARN]: () => ({}) },
    });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(calls.filter((c) => c.stepId !== 'classify')).toEqual(
      expect.arrayContaining([
        { stepId: 'keep', item: 'good' },
        { stepId: 'drop', item: 'bad' },
      ]),
    );
    expect(calls).toHaveLength(4);
    expect(result.output).toEqual({
      input: { items: ['good', 'bad'] },
      steps: {
        each: {
          output: [
            { classify: { output: { text: 'keep' } }, keep: { output: { text: 'ran:keep' } } },
            { classify: { output: { text: 'discard' } }, drop: { output: { text: 'ran:drop' } } },
          ],
        },
      },
      context: runContext(),
    });
  });
});
