/**
 * What each step type is, in one table ({@link STEP_TRAITS}), and the one walk over a workflow's
 * graphs and the graphs nested in its steps ({@link walkGraphs}). Validation, compilation, the diff
 * and the state budget read them instead of naming step types, so a new step type is a compile
 * error here (`Record<StepType, …>`) and, for its ASL, in compile.ts's exhaustive `switch`.
 *
 * Both work on raw (unvalidated) input too: validation runs them before the schema has passed.
 * Only types come from model.ts, so the step runner's bundle does not load the schema library through this file.
 */
import { isRecord, joinPath } from '../catalog/problems.ts';
import type { Step, StepGraph, StepType } from './model.ts';

/** Where a graph sits: the workflow itself, a parallel's branch, or a map's iterator. */
export type GraphKind = 'workflow' | 'branch' | 'iterator';

/** The step's field holding nested graphs, and how they run. */
export type ChildGraphs =
  /** A list of graphs run at once on the same state; their steps are readable after the step. */
  | { readonly kind: 'branch'; readonly field: 'branches' }
  /** One graph run once per item, on its own state; read through the step's own output. */
  | { readonly kind: 'iterator'; readonly field: 'iterator' };

/** A field whose strings name data (`{{steps.a.output}}`, `input.items`), and how it is written. */
export type DataRead =
  /** A template string. */
  | { readonly field: 'prompt'; readonly as: 'template' }
  /** Any JSON whose string values are templates. */
  | { readonly field: 'args'; readonly as: 'args' }
  /** A data path. */
  | { readonly field: 'itemsPath'; readonly as: 'path' }
  /** Choice rules: each rule's `when` condition holds paths. */
  | { readonly field: 'choices'; readonly as: 'conditions' };

/** What the rest of the code needs to know about one step type. */
export interface StepTraits {
  /**
   * How the step leaves: `next` (a `next` step or `end: true`), `choices` (each rule's `next`, then
   * `default`), `succeed` (ends its graph successfully), `fail` (ends it failed).
   */
  readonly transitions: 'next' | 'choices' | 'succeed' | 'fail';
  /** Writes its result to `steps.<id>.output`, which later steps may read. */
  readonly output: boolean;
  /** Pauses the execution (a cycle needs such a step, or it would spin). */
  readonly pauses: boolean;
  /** Has a `catch` list sending failures to other steps. */
  readonly catches: boolean;
  /** Nested graphs, if any. */
  readonly children?: ChildGraphs;
  /** The field that reads data, checked against what is available when the step runs. */
  readonly reads?: DataRead;
  /** The catalog entry the step uses, by the field naming it. */
  readonly catalog?:
    | { readonly kind: 'agent'; readonly field: 'agentId' }
    | { readonly kind: 'tool'; readonly field: 'toolId' };
}

/** Every step type's traits (docs/api.md, "Definitions"; the fields are in model.ts). */
export const STEP_TRAITS = Object.freeze({
  agent: {
    transitions: 'next',
    output: true,
    pauses: false,
    catches: true,
    reads: { field: 'prompt', as: 'template' },
    catalog: { kind: 'agent', field: 'agentId' },
  },
  tool: {
    transitions: 'next',
    output: true,
    pauses: false,
    catches: true,
    reads: { field: 'args', as: 'args' },
    catalog: { kind: 'tool', field: 'toolId' },
  },
  choice: {
    transitions: 'choices',
    output: false,
    pauses: false,
    catches: false,
    reads: { field: 'choices', as: 'conditions' },
  },
  parallel: {
    transitions: 'next',
    output: false,
    pauses: false,
    catches: false,
    children: { kind: 'branch', field: 'branches' },
  },
  map: {
    transitions: 'next',
    output: true,
    pauses: false,
    catches: false,
    children: { kind: 'iterator', field: 'iterator' },
    reads: { field: 'itemsPath', as: 'path' },
  },
  approval: { transitions: 'next', output: true, pauses: true, catches: true },
  wait: { transitions: 'next', output: false, pauses: true, catches: false },
  succeed: { transitions: 'succeed', output: false, pauses: false, catches: false },
  fail: { transitions: 'fail', output: false, pauses: false, catches: false },
} as const satisfies Record<StepType, StepTraits>);

/**
 * The traits of a step type, or undefined for anything else (raw input may name any type; an own
 * property only, so `constructor` or `toString` are not types).
 */
export function traitsOf(type: unknown): StepTraits | undefined {
  const table: Readonly<Record<string, StepTraits>> = STEP_TRAITS;
  return Object.hasOwn(table, type as PropertyKey) ? table[type as string] : undefined;
}

/** The traits of a (validated) step. */
export function traitsOfStep(step: Step): StepTraits {
  return STEP_TRAITS[step.type];
}

/** A nested graph of a step: the object holding `startAt` and `steps`, and where it sits. */
export interface ChildGraph {
  readonly kind: 'branch' | 'iterator';
  /** Its place in the step: `branches.1`, `iterator`. */
  readonly at: string;
  readonly holder: Record<string, unknown>;
}

/** The nested graphs of a step (raw input: entries that are not objects are left out). */
export function childGraphs(step: unknown): ChildGraph[] {
  if (!isRecord(step)) return [];
  const children = traitsOf(step.type)?.children;
  if (!children) return [];
  const value = step[children.field];
  const out: ChildGraph[] = [];
  if (children.kind === 'branch') {
    if (Array.isArray(value)) {
      value.forEach((holder, i) => {
        if (isRecord(holder)) out.push({ kind: children.kind, at: `${children.field}.${i}`, holder });
      });
    }
  } else if (isRecord(value)) {
    out.push({ kind: children.kind, at: children.field, holder: value });
  }
  return out;
}

/** A graph as {@link walkGraphs} enters it. `G` is what the visitor keeps per graph. */
export interface GraphVisit<G> {
  readonly kind: GraphKind;
  /** Path of the object holding `startAt` and `steps` ('' for the root). */
  readonly path: string;
  readonly holder: Record<string, unknown>;
  /** 0 for the root, 1 for the graphs nested in its steps, and so on. */
  readonly depth: number;
  /** The step holding this graph, and the visitor's value of that step's graph; none for the root. */
  readonly owner?: { readonly id: string; readonly step: Record<string, unknown>; readonly graph: G };
  /** This graph's place in its owner: `branches.1`, `iterator`. */
  readonly at?: string;
}

/** A step as {@link walkGraphs} visits it. */
export interface StepVisit<G> {
  readonly id: string;
  /** The raw step (anything, in unvalidated input). */
  readonly step: unknown;
  /** `steps.a`, `steps.p.branches.0.steps.b`. */
  readonly path: string;
  /** The visitor's value of the graph holding the step. */
  readonly graph: G;
  /** Depth of the graph holding the step. */
  readonly depth: number;
  /** The step's nested graphs. */
  readonly children: readonly ChildGraph[];
}

/** What {@link walkGraphs} calls. */
export interface GraphVisitor<G> {
  /**
   * Entering a graph, before its steps: returns the value its steps receive, or false to skip it.
   * Without it, every graph is walked and its steps receive undefined.
   */
  graph?(visit: GraphVisit<G>): G | false;
  /** One step, in the order of its graph: `skip` leaves its nested graphs out, `stop` ends the walk. */
  step(visit: StepVisit<G>): 'skip' | 'stop' | undefined;
}

/**
 * Visits a workflow's graph (`root`: an object with `steps`) and every graph nested in its steps,
 * each with its path. Order `nested` (the default, when `order` is left out) enters a step's nested graphs right after the
 * step, before the next one. Order `stack` visits a graph's steps first and then takes the graphs
 * last in, first out: the limit checks use it, so which problems they report first (and which are
 * left out after the cap) is unchanged. Raw input is read tolerantly: a `steps` that is not an
 * object holds no steps, and each key of it is visited whatever its value.
 */
export function walkGraphs<G>(
  root: StepGraph | Record<string, unknown>,
  visitor: GraphVisitor<G>,
  order?: 'nested' | 'stack',
): void {
  const holder = root as Record<string, unknown>;
  const pending: GraphVisit<G>[] = [{ kind: 'workflow', path: '', holder, depth: 0 }];
  let stopped = false;
  const enter = (visit: GraphVisit<G>) => {
    const value = visitor.graph?.(visit) as G | false;
    if (value === false) return;
    const steps = visit.holder.steps;
    if (!isRecord(steps)) return;
    const stepsPath = joinPath(visit.path, 'steps');
    for (const id of Object.keys(steps)) {
      const step = steps[id];
      const path = joinPath(stepsPath, id);
      const children = childGraphs(step);
      const answer = visitor.step({ id, step, path, graph: value, depth: visit.depth, children });
      if (answer === 'stop') {
        stopped = true;
        return;
      }
      if (answer === 'skip') continue;
      for (const child of children) {
        const nested: GraphVisit<G> = {
          kind: child.kind,
          path: `${path}.${child.at}`,
          holder: child.holder,
          depth: visit.depth + 1,
          // Only an object has nested graphs (childGraphs).
          owner: { id, step: step as Record<string, unknown>, graph: value },
          at: child.at,
        };
        if (order === 'stack') pending.push(nested);
        else {
          enter(nested);
          if (stopped) return;
        }
      }
    }
  };
  while (pending.length > 0 && !stopped) enter(pending.pop() as GraphVisit<G>);
}
