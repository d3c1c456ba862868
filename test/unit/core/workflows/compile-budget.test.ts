/**
 * The compilation budget (was section 5 of bench/RESULTS.md): Standard workflows are billed per state
 * transition, so every example workflow compiles to at most 1.25 states per step (and so do their
 * pooled ratio and mean, which need no test of their own), and each compiled definition passes
 * asl-validator.
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
});
