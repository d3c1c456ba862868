/**
 * Section 5: the compilation budget. Every example workflow of the workflow tests
 * (test/unit/core/workflows/fixtures.ts, one per step type and a few combinations) is validated and
 * compiled, and its Step Functions states are counted against its steps; then a 200-step workflow is
 * validated and compiled many times in process, timed.
 */
import { compileWorkflow, countStates } from '#core/workflows/compile.ts';
import type { StepGraph, WorkflowDefinition } from '#core/workflows/model.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import {
  aslErrors,
  catalog,
  compileOptions,
  countSteps,
  EXAMPLES,
  linearWorkflow,
} from '../test/unit/core/workflows/fixtures.ts';
import { median, percentile } from './stats.ts';

/** One example workflow: its steps (nested ones included) and the states it compiles to. */
export interface WorkflowBudget {
  readonly name: string;
  /** Step types it uses, in order of first appearance. */
  readonly types: readonly string[];
  readonly steps: number;
  readonly states: number;
  /** asl-validator's errors ('' when the definition is valid). */
  readonly aslErrors: string;
}

/** Percentiles of one timed operation, ms. */
export interface TimingSummary {
  readonly runs: number;
  readonly p50: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
}

/** Everything section 5 measured. */
export interface CompilationResults {
  readonly workflows: readonly WorkflowBudget[];
  /** Sum of states over sum of steps. */
  readonly pooledRatio: number;
  /** Mean over the workflows of each one's states per step. */
  readonly meanRatio: number;
  readonly large: {
    readonly steps: number;
    readonly states: number;
    readonly definitionBytes: number;
    readonly aslBytes: number;
    readonly warmup: number;
    readonly validate: TimingSummary;
    readonly compile: TimingSummary;
    readonly total: TimingSummary;
  };
}

/** Steps of the large workflow (200). */
export const LARGE_STEPS = 200;

/** Step types a graph uses, nested graphs included, in order of first appearance. */
function stepTypes(def: WorkflowDefinition): string[] {
  const seen: string[] = [];
  const graphs: StepGraph[] = [def];
  while (graphs.length > 0) {
    const graph = graphs.shift();
    if (!graph) break;
    for (const step of Object.values(graph.steps)) {
      if (!seen.includes(step.type)) seen.push(step.type);
      if (step.type === 'parallel') graphs.push(...step.branches);
      if (step.type === 'map') graphs.push(step.iterator);
    }
  }
  return seen;
}

/** Nearest-rank summary of a sample, ms. */
export function summarize(samples: readonly number[]): TimingSummary {
  return {
    runs: samples.length,
    p50: median(samples),
    p95: percentile(samples, 95),
    min: Math.min(...samples),
    max: Math.max(...samples),
  };
}

/** Counts states per step over the example workflows, then times validation and compilation of 200 steps. */
export function measureCompilation(runs: number, warmup: number): CompilationResults {
  const workflows: WorkflowBudget[] = Object.entries(EXAMPLES).map(([name, def]) => {
    const validated = validateWorkflow(structuredClone(def), catalog);
    const compiled = compileWorkflow(validated, compileOptions);
    return {
      name,
      types: stepTypes(validated),
      steps: countSteps(validated),
      states: countStates(compiled.asl),
      aslErrors: aslErrors(compiled.asl),
    };
  });
  const totalSteps = workflows.reduce((n, w) => n + w.steps, 0);
  const totalStates = workflows.reduce((n, w) => n + w.states, 0);
  const meanRatio = workflows.reduce((n, w) => n + w.states / w.steps, 0) / workflows.length;

  const large = linearWorkflow(LARGE_STEPS);
  const validate: number[] = [];
  const compile: number[] = [];
  const total: number[] = [];
  let states = 0;
  let aslBytes = 0;
  for (let i = 0; i < warmup + runs; i++) {
    // A fresh copy per run, as a request body would be: no cached parse of the same object.
    const input: unknown = structuredClone(large);
    const t0 = performance.now();
    const validated = validateWorkflow(input, catalog);
    const t1 = performance.now();
    const compiled = compileWorkflow(validated, compileOptions);
    const t2 = performance.now();
    if (i < warmup) continue;
    validate.push(t1 - t0);
    compile.push(t2 - t1);
    total.push(t2 - t0);
    states = compiled.stateCount;
    aslBytes = Buffer.byteLength(compiled.json);
  }
  return {
    workflows,
    pooledRatio: totalStates / totalSteps,
    meanRatio,
    large: {
      steps: countSteps(large),
      states,
      definitionBytes: Buffer.byteLength(JSON.stringify(large)),
      aslBytes,
      warmup,
      validate: summarize(validate),
      compile: summarize(compile),
      total: summarize(total),
    },
  };
}
