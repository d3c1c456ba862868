import type { MapStep, Step, StepGraph, WorkflowDefinition } from '../workflows/model.ts';
import { childGraphs, walkGraphs } from '../workflows/steps.ts';
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

/**
 * The map and parallel steps enclosing `stepId`, outermost first, each with the graph (iterator or
 * branch) the step is in; empty at the workflow's top level, undefined when the step is not found.
 */
export function enclosingContainers(graph: StepGraph, stepId: string): Container[] | undefined {
  let found: Container[] | undefined;
  walkGraphs<Container[]>(graph, {
    graph: ({ owner, holder, kind }) => {
      if (!owner) return [];
      const step = owner.step as unknown as Step;
      const inner = holder as unknown as StepGraph;
      // A branch runs beside its siblings (each gets a share); an iteration once per item.
      const container: Container =
        kind === 'iterator'
          ? { kind: 'map', id: owner.id, itemsPath: (step as MapStep).itemsPath, graph: inner }
          : { kind: 'parallel', id: owner.id, branches: childGraphs(step).length, graph: inner };
      return [...owner.graph, container];
    },
    step: ({ id, graph: containers }) => {
      if (id !== stepId) return undefined;
      found = containers;
      return 'stop';
    },
  });
  return found;
}

/** A map or parallel step around a step, as the accounting needs it. */
export type Container =
  | { readonly kind: 'map'; readonly id: string; readonly itemsPath: string; readonly graph: StepGraph }
  | { readonly kind: 'parallel'; readonly id: string; readonly branches: number; readonly graph: StepGraph };

function stepIdsOf(graph: StepGraph): Set<string> {
  const out = new Set<string>();
  walkGraphs(graph, {
    step: ({ id }) => {
      out.add(id);
      return undefined;
    },
  });
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
 * Inside a map, every iteration's own steps come back combined, so an iteration gets an equal share
 * of what the state outside leaves, by the item count read from the map's `itemsPath` (an
 * unreadable count allows only {@link UNKNOWN_MAP_INLINE_BYTES}). A parallel step's raw result holds
 * every branch's whole state, so the state outside counts once per branch and each branch gets an
 * equal share of the rest. Nested containers multiply.
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
  const containers = enclosingContainers(input.workflow, input.stepId) ?? [];
  const stateBytes = jsonBytes(input.state);
  if (containers.length === 0) return decide(STATE_BUDGET_BYTES - stateBytes);

  // Inside a container `state.steps` holds the outer steps merged with the container's own.
  const innermost = containers[containers.length - 1] as Container;
  const own = stepIdsOf(innermost.graph);
  const steps = (input.state.steps ?? {}) as Record<string, unknown>;
  const ownBytes = Object.entries(steps)
    .filter(([id]) => own.has(id))
    .reduce((sum, [id, value]) => sum + jsonBytes({ [id]: value }), 0);
  let copiesOfOuter = 1;
  let copiesOfOwn = 1;
  for (const container of containers) {
    if (container.kind === 'parallel') {
      copiesOfOuter *= container.branches;
      copiesOfOwn *= container.branches;
      continue;
    }
    // `itemsPath` is read where the map runs, so an `item.…` path names an enclosing iteration's
    // item, which this state does not hold.
    const parsed = parseDataPath(container.itemsPath, ['input', 'steps']);
    const items = parsed.ok ? readRef(input.state, parsed.ref) : undefined;
    if (!Array.isArray(items)) return decide(UNKNOWN_MAP_INLINE_BYTES - ownBytes);
    copiesOfOwn *= Math.max(items.length, 1);
  }
  const outerBytes = Math.max(stateBytes - ownBytes, 0);
  const share = Math.floor((STATE_BUDGET_BYTES - outerBytes * copiesOfOuter) / copiesOfOwn);
  return decide(share - ownBytes);
}
