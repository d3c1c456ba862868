/**
 * The compile cases (compile-cases.ts) and example workflows as the engines see them: accepted by
 * asl-validator, and run in aws-local-stepfunctions with every task handed the run context. Slow
 * (asl-validator compiles its schemas per call; the engine runs each definition), so outside the
 * mutation set: compile.test.ts pins the same definitions' exact ASL. The example workflows' ASL is
 * checked with their budget (compile-budget.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { compileWorkflow } from '#core/workflows/compile.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import { runLocalStateMachine } from '../../../helpers/stepfunctions.ts';
import { CASES } from './compile-cases.ts';
import {
  APPROVAL_ARN,
  aslErrors,
  catalog,
  compileOptions,
  linearWorkflow,
  runContext,
  runInput,
  STEP_RUNNER_ARN,
} from './fixtures.ts';

describe.each(CASES)('compiled $type step', ({ def, input, run }) => {
  it('passes asl-validator', () => {
    // Act
    const compiled = compileWorkflow(validateWorkflow(def, catalog), compileOptions);

    // Assess
    expect(aslErrors(compiled.asl)).toBe('');
  });

  it('runs in aws-local-stepfunctions, handing every task the run context', async () => {
    // Prepare
    const compiled = compileWorkflow(validateWorkflow(def, catalog), compileOptions);
    const context = runContext({ tenantId: 'tenant-compile' });
    const received: unknown[] = [];

    // Act
    const result = await runLocalStateMachine(compiled.asl, runInput(input, context), {
      executionName: context.executionId,
      handlers: {
        [STEP_RUNNER_ARN]: (payload) => {
          received.push((payload as { state: { context: unknown } }).state.context);
          return { text: 'ok', echo: payload };
        },
        [APPROVAL_ARN]: (payload) => {
          received.push((payload as { context: unknown }).context);
          return { output: { decision: 'approve', decidedBy: 'u1' } };
        },
      },
    });

    // Assess
    expect(result.status).toBe(run.status);
    expect(received).toEqual(Array.from({ length: run.tasks }, () => context));
    if (run.steps) {
      const output = result.output as { steps: Record<string, unknown>; context: unknown };
      expect(Object.keys(output.steps).sort()).toEqual([...run.steps].sort());
      expect(output.context).toEqual(context);
    }
  });
});

describe('a 200-step workflow', () => {
  it('compiles to ASL that asl-validator accepts', () => {
    // Act
    const compiled = compileWorkflow(validateWorkflow(linearWorkflow(200), catalog), compileOptions);

    // Assess
    expect(aslErrors(compiled.asl)).toBe('');
  });
});
