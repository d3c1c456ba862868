import type { Step, StepGraph, WorkflowDefinition } from '../workflows/model.ts';
import { parseDataPath } from '../workflows/templates.ts';
import { readRef } from './data.ts';

/**
 * Size accounting for a running workflow's state. Step Functions fails an execution whose state
 * passes 256 KiB with `States.DataLimitExceeded`, which no Catch can catch; so the step runner keeps
 * the whole state under a budget well below it, moving outputs to S3 before that limit is near.
 */

/** Step Functions' limit on a state's input or output, in UTF-8 bytes. */
export const STATE_LIMIT_BYTES = 256 * 1024;
/**
 * What the whole state may reach after a step: three quarters of the limit, leaving room for what
 * the runner does not see (approval outputs, the map's array brackets, the engine's own fields).
 */
export const STATE_BUDGET_BYTES = 192 * 1024;
/** An output larger than this goes to S3 whatever the state's size. */
export const INLINE_OUTPUT_LIMIT_BYTES = 64 * 1024;
/** A map iteration whose item count cannot be read inlines at most this much per output. */
export const UNKNOWN_MAP_INLINE_BYTES = 1024;

const encoder = new TextEncoder();

/** Size of `value` as Step Functions counts it: its JSON in UTF-8 bytes (not UTF-16 string length). */
export function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : encoder.encode(JSON.stringify(value)).byteLength;
}

/** The map steps enclosing `stepId`, outermost first; empty at the workflow's top level. */
export function enclosingMaps(graph: StepGraph, stepId: string): MapLike[] | undefined {
  for (const [id, step] of Object.entries(graph.steps ?? {}) as [string, Step][]) {
    if (id === stepId) return [];
    const inner = childGraphs(step);
    for (const child of inner) {
      const found = enclosingMaps(child, stepId);
      if (found)
        return step.type === 'map'
          ? [{ id, itemsPath: step.itemsPath, iterator: step.iterator }, ...found]
          : found;
    }
  }
  return undefined;
}

/** What the accounting needs of a map step. */
export interface MapLike {
  readonly id: string;
  readonly itemsPath: string;
  readonly iterator: StepGraph;
}

function childGraphs(step: Step): readonly StepGraph[] {
  if (step.type === 'map') return [step.iterator];
  if (step.type === 'parallel') return step.branches;
  return [];
}

function stepIdsOf(graph: StepGraph, out = new Set<string>()): Set<string> {
  for (const [id, step] of Object.entries(graph.steps ?? {}) as [string, Step][]) {
    out.add(id);
    for (const child of childGraphs(step)) stepIdsOf(child, out);
  }
  return out;
}

/** The decision for one output. */
export interface OffloadDecision {
  /** True: store the output in S3 and put a reference in the state. */
  readonly offload: boolean;
  /** The output's size in UTF-8 bytes. */
  readonly outputBytes: number;
  /** The most this step's output may add to the state inline. */
  readonly allowanceBytes: number;
}

/**
 * Decides whether a step's output stays in the state or goes to S3. At the top level the state
 * after the step (the state it received plus its output) must stay within {@link STATE_BUDGET_BYTES}.
 * Inside a map, every iteration's steps come back combined into the outer state, so an iteration
 * gets an equal share of what the outer state leaves, by the item count read from the map's
 * `itemsPath` (nested maps multiply); an unreadable count allows only {@link UNKNOWN_MAP_INLINE_BYTES}.
 */
export function decideOffload(input: {
  readonly workflow: WorkflowDefinition;
  readonly stepId: string;
  readonly state: Readonly<Record<string, unknown>>;
  readonly output: unknown;
}): OffloadDecision {
  const outputBytes = jsonBytes(input.output);
  const decide = (allowanceBytes: number): OffloadDecision => ({
    offload: outputBytes > Math.min(allowanceBytes, INLINE_OUTPUT_LIMIT_BYTES),
    outputBytes,
    allowanceBytes,
  });
  const maps = enclosingMaps(input.workflow, input.stepId) ?? [];
  const stateBytes = jsonBytes(input.state);
  if (maps.length === 0) return decide(STATE_BUDGET_BYTES - stateBytes);

  // Inside an iteration `state.steps` holds the outer steps merged with the iteration's own.
  const innermost = maps[maps.length - 1] as MapLike;
  const own = stepIdsOf(innermost.iterator);
  const steps = (input.state.steps ?? {}) as Record<string, unknown>;
  const ownBytes = Object.entries(steps)
    .filter(([id]) => own.has(id))
    .reduce((sum, [id, value]) => sum + jsonBytes({ [id]: value }), 0);
  let iterations = 1;
  for (const [i, map] of maps.entries()) {
    // An enclosing map's `item` is not this iteration's: only the innermost can read `item.…`.
    const roots =
      i === maps.length - 1 ? (['input', 'steps', 'item'] as const) : (['input', 'steps'] as const);
    const parsed = parseDataPath(map.itemsPath, roots);
    const items = parsed.ok ? readRef(input.state, parsed.ref) : undefined;
    if (!Array.isArray(items)) return decide(UNKNOWN_MAP_INLINE_BYTES);
    iterations *= Math.max(items.length, 1);
  }
  const outerBytes = Math.max(stateBytes - ownBytes, 0);
  const share = Math.floor((STATE_BUDGET_BYTES - outerBytes) / iterations);
  return decide(share - ownBytes);
}
