/**
 * Compilation to ASL: the exact definition of a small workflow per step type (cases in
 * compile-cases.ts; compile-run.test.ts checks them with asl-validator and runs them in
 * aws-local-stepfunctions), determinism, state budget, pins. Fast: it is in the mutation set.
 */
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError } from '#core/errors.ts';
import { compileWorkflow, countStates, MAX_ASL_BYTES } from '#core/workflows/compile.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import { CASES } from './compile-cases.ts';
import { catalog, compileOptions, countSteps, EXAMPLES, linearWorkflow, problemsOf } from './fixtures.ts';

describe.each(CASES)('compiling a $type step', ({ def, expected }) => {
  it('gives exactly the expected ASL', () => {
    // Act
    const compiled = compileWorkflow(validateWorkflow(def, catalog), compileOptions);

    // Assess
    expect(compiled.asl).toEqual(expected);
    expect(compiled.json).toBe(JSON.stringify(compiled.asl));
    expect(compiled.json).not.toMatch(/JSONata|QueryLanguage|Assign|DISTRIBUTED/);
  });
});

describe('determinism', () => {
  it.each(Object.entries(EXAMPLES))('compiles %s to byte-identical JSON twice', (_name, def) => {
    // Act
    const first = compileWorkflow(validateWorkflow(def, catalog), compileOptions).json;
    const second = compileWorkflow(validateWorkflow(structuredClone(def), catalog), compileOptions).json;

    // Assess
    expect(second).toBe(first);
  });

  it('does not depend on the order of steps or fields in the definition', () => {
    // Prepare
    const def = EXAMPLES.choice;
    const reversed = JSON.parse(
      JSON.stringify(def, (_key, value: unknown) =>
        value && typeof value === 'object' && !Array.isArray(value)
          ? Object.fromEntries(Object.entries(value).reverse())
          : value,
      ),
    ) as unknown;

    // Act
    const a = compileWorkflow(validateWorkflow(def, catalog), compileOptions).json;
    const b = compileWorkflow(validateWorkflow(reversed, catalog), compileOptions).json;

    // Assess
    expect(b).toBe(a);
  });
});

describe('state budget', () => {
  it('uses at most 1.25 states per step on average over every test workflow', () => {
    // Prepare
    const defs = [...Object.values(EXAMPLES), ...CASES.map((c) => c.def), linearWorkflow(200)];

    // Act
    let states = 0;
    let steps = 0;
    for (const def of defs) {
      states += compileWorkflow(validateWorkflow(def, catalog), compileOptions).stateCount;
      steps += countSteps(def);
    }

    // Assess
    expect(states / steps).toBeLessThanOrEqual(1.25);
  });

  it.each([
    { name: 'parallel', states: 6 },
    { name: 'map', states: 7 },
  ] as const)('counts nested states of the $name example', ({ name, states }) => {
    // Prepare
    const compiled = compileWorkflow(validateWorkflow(EXAMPLES[name], catalog), compileOptions);

    // Act
    const count = countStates(compiled.asl);

    // Assess
    expect(count).toBe(states);
    expect(compiled.stateCount).toBe(states);
  });
});

describe('a 200-step workflow', () => {
  it('validates and compiles', () => {
    // Prepare
    const def = linearWorkflow(200);

    // Act
    const compiled = compileWorkflow(validateWorkflow(def, catalog), compileOptions);

    // Assess
    expect(compiled.stateCount).toBe(200);
  });
});

describe('compiled size', () => {
  it('refuses a definition that compiles to more than 1 MB of ASL', () => {
    // Prepare: about 0.9 MB of definition; each task adds its payload skeleton and retrier.
    const def = linearWorkflow(450);
    for (const step of Object.values(def.steps)) {
      if (step.type === 'tool') Object.assign(step.args, { pad: 'x'.repeat(3600) });
    }
    const validated = validateWorkflow(def, catalog);

    // Act
    const act = () => compileWorkflow(validated, compileOptions);

    // Assess
    expect(JSON.stringify(def).length).toBeLessThan(MAX_ASL_BYTES);
    expect(act).toThrow(PayloadTooLargeError);
  });
});

describe('pins', () => {
  it('refuses to compile a step whose agent or tool has no pinned version', () => {
    // Prepare
    const def = validateWorkflow(EXAMPLES.agentAndTool, catalog);
    const options = { ...compileOptions, pins: { agents: {}, tools: { weather: 2 } } };

    // Act
    const problems = problemsOf(() => compileWorkflow(def, options));

    // Assess
    expect(problems).toEqual([
      { path: 'steps.draft.agentId', message: 'no pinned version for agent writer' },
    ]);
  });

  it('throws a ValidationError (a 400), not a crash', () => {
    // Prepare
    const def = validateWorkflow(EXAMPLES.agentAndTool, catalog);

    // Act
    const act = () => compileWorkflow(def, { ...compileOptions, pins: { agents: {}, tools: {} } });

    // Assess
    expect(act).toThrow(ValidationError);
  });
});
