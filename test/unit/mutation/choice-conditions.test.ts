/**
 * Pins how each choice operator compiles, for numbers, strings, booleans and null: the exact ASL
 * rule, its `IsPresent` guard and its type guard. The same operators decided at run time, and a map
 * iterator whose choice reads the iteration's own step, run in aws-local-stepfunctions, are in
 * test/unit/core/workflows/choice-run.test.ts (slow, so outside the mutation set).
 */
import { describe, expect, it } from 'vitest';
import { compileWorkflow } from '#core/workflows/compile.ts';
import type { Condition } from '#core/workflows/model.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import { catalog, compileOptions, gated } from '../core/workflows/fixtures.ts';

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
