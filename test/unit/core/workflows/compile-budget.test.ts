/**
 * The compilation budget (was section 5 of bench/RESULTS.md): Standard workflows are billed per state
 * transition, so every example workflow compiles to at most 1.25 states per step, on the pooled
 * ratio and on the mean of per-workflow ratios, and each compiled definition passes asl-validator.
 */
import { describe, expect, it } from 'vitest';
import { compileWorkflow, countStates } from '#core/workflows/compile.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import { aslErrors, catalog, compileOptions, countSteps, EXAMPLES } from './fixtures.ts';

const STATES_PER_STEP = 1.25;

const budgets = Object.entries(EXAMPLES).map(([name, def]) => {
  const validated = validateWorkflow(structuredClone(def), catalog);
  const { asl } = compileWorkflow(validated, compileOptions);
  return { name, steps: countSteps(validated), states: countStates(asl), aslErrors: aslErrors(asl) };
});

describe('compilation budget', () => {
  it.each(budgets)('$name: $states states for $steps steps, valid ASL', (b) => {
    expect(b.aslErrors).toBe('');
    expect(b.states / b.steps).toBeLessThanOrEqual(STATES_PER_STEP);
  });

  it(`pools to at most ${STATES_PER_STEP} states per step over every example`, () => {
    const steps = budgets.reduce((n, b) => n + b.steps, 0);
    const states = budgets.reduce((n, b) => n + b.states, 0);
    const mean = budgets.reduce((n, b) => n + b.states / b.steps, 0) / budgets.length;
    expect(Math.max(states / steps, mean)).toBeLessThanOrEqual(STATES_PER_STEP);
  });
});
