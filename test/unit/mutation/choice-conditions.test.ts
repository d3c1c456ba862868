/**
 * Pins how each choice operator compiles, for numbers, strings, booleans and null: the exact ASL
 * rule, its `IsPresent` guard and its type guard. Then a map iterator whose choice reads the
 * iteration's own step, run in aws-local-stepfunctions, so the path to that step is checked where
 * it matters (the iteration's `$.steps`, not the outer steps).
 */
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '#core/catalog/model.ts';
import { compileWorkflow } from '#core/workflows/compile.ts';
import type { Condition, WorkflowDefinition } from '#core/workflows/model.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import { type LocalHandler, runLocalStateMachine } from '../../helpers/stepfunctions.ts';
import {
  APPROVAL_ARN,
  catalog,
  compileOptions,
  runContext,
  runInput,
  STEP_RUNNER_ARN,
} from '../workflows/fixtures.ts';

/** A workflow whose first step is a choice on `when`, going to `yes` or (default) `no`. */
function gated(when: Condition): WorkflowDefinition {
  return {
    name: 'gate',
    startAt: 'gate',
    steps: {
      gate: { type: 'choice', choices: [{ when, next: 'yes' }], default: 'no' },
      yes: { type: 'agent', agentId: 'writer', prompt: 'yes', end: true },
      no: { type: 'agent', agentId: 'writer', prompt: 'no', end: true },
    },
  };
}

/** The compiled choice rule (without `Next`) of {@link gated}(`when`). */
function compiledRule(when: Condition): unknown {
  const { asl } = compileWorkflow(validateWorkflow(gated(when), catalog), compileOptions);
  const gate = asl.States as Record<string, { Choices: Array<Record<string, unknown>>; Default: string }>;
  const choices = gate.gate?.Choices ?? [];
  expect(choices).toHaveLength(1);
  expect(gate.gate?.Default).toBe('no');
  const { Next, ...rule } = choices[0] ?? {};
  expect(Next).toBe('yes');
  return rule;
}

const V = '$.input.v';
const present = { Variable: V, IsPresent: true };
const typed = (guard: 'IsNumeric' | 'IsString' | 'IsBoolean') => ({ Variable: V, [guard]: true });

describe('choice operators compile to the ASL operator of their value type', () => {
  const cases: Array<[string, Condition, unknown]> = [
    [
      'equals number',
      { path: 'input.v', equals: 4 },
      { And: [present, typed('IsNumeric'), { Variable: V, NumericEquals: 4 }] },
    ],
    [
      'equals string',
      { path: 'input.v', equals: '4' },
      { And: [present, typed('IsString'), { Variable: V, StringEquals: '4' }] },
    ],
    [
      'equals true',
      { path: 'input.v', equals: true },
      { And: [present, typed('IsBoolean'), { Variable: V, BooleanEquals: true }] },
    ],
    [
      'equals false',
      { path: 'input.v', equals: false },
      { And: [present, typed('IsBoolean'), { Variable: V, BooleanEquals: false }] },
    ],
    ['equals null', { path: 'input.v', equals: null }, { And: [present, { Variable: V, IsNull: true }] }],
    [
      'notEquals number',
      { path: 'input.v', notEquals: 4 },
      { Not: { And: [present, typed('IsNumeric'), { Variable: V, NumericEquals: 4 }] } },
    ],
    [
      'notEquals string',
      { path: 'input.v', notEquals: 'a' },
      { Not: { And: [present, typed('IsString'), { Variable: V, StringEquals: 'a' }] } },
    ],
    [
      'notEquals boolean',
      { path: 'input.v', notEquals: true },
      { Not: { And: [present, typed('IsBoolean'), { Variable: V, BooleanEquals: true }] } },
    ],
    [
      'notEquals null',
      { path: 'input.v', notEquals: null },
      { Not: { And: [present, { Variable: V, IsNull: true }] } },
    ],
    [
      'greaterThan number',
      { path: 'input.v', greaterThan: 3 },
      { And: [present, typed('IsNumeric'), { Variable: V, NumericGreaterThan: 3 }] },
    ],
    [
      'greaterThan string',
      { path: 'input.v', greaterThan: 'm' },
      { And: [present, typed('IsString'), { Variable: V, StringGreaterThan: 'm' }] },
    ],
    [
      'lessThan number',
      { path: 'input.v', lessThan: 3 },
      { And: [present, typed('IsNumeric'), { Variable: V, NumericLessThan: 3 }] },
    ],
    [
      'lessThan string',
      { path: 'input.v', lessThan: 'm' },
      { And: [present, typed('IsString'), { Variable: V, StringLessThan: 'm' }] },
    ],
    [
      'contains (wildcards and escapes made literal)',
      { path: 'input.v', contains: 'a*b\\c' },
      { And: [present, typed('IsString'), { Variable: V, StringMatches: '*a\\*b\\\\c*' }] },
    ],
    ['exists true', { path: 'input.v', exists: true }, { Variable: V, IsPresent: true }],
    ['exists false', { path: 'input.v', exists: false }, { Variable: V, IsPresent: false }],
    [
      'and, or, not nest their operands in order',
      {
        and: [
          { path: 'input.v', exists: true },
          { or: [{ path: 'input.v', exists: false }, { not: { path: 'input.v', exists: true } }] },
        ],
      },
      {
        And: [
          { Variable: V, IsPresent: true },
          { Or: [{ Variable: V, IsPresent: false }, { Not: { Variable: V, IsPresent: true } }] },
        ],
      },
    ],
  ];

  it.each(cases)('%s', (_name, when, expected) => {
    // Act
    const rule = compiledRule(when);
    // Assess
    expect(rule).toEqual(expected);
  });

  it('reads a step output through $.steps outside any iterator', () => {
    // Act
    const rule = compiledRule({ path: 'input.v', exists: true });
    const stepRule = compileWorkflow(
      validateWorkflow(
        {
          name: 's',
          startAt: 'first',
          steps: {
            first: { type: 'agent', agentId: 'writer', prompt: 'p', next: 'gate' },
            ...gated({ path: 'steps.first.output.text', equals: 'ok' }).steps,
          },
        },
        catalog,
      ),
      compileOptions,
    ).asl.States as Record<string, { Choices: Array<{ And: Array<{ Variable: string }> }> }>;
    // Assess
    expect(rule).toEqual({ Variable: '$.input.v', IsPresent: true });
    expect(stepRule.gate?.Choices[0]?.And.map((leaf) => leaf.Variable)).toEqual([
      '$.steps.first.output.text',
      '$.steps.first.output.text',
      '$.steps.first.output.text',
    ]);
  });
});

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
