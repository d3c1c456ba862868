/**
 * Structured diff of two workflow versions (`GET /workflows/{id}/diff`): which steps were added,
 * removed or changed (and which fields, as paths like `retry.maxAttempts`), and which top-level
 * fields changed. Steps are matched by id wherever they sit (ids are unique across the workflow);
 * moving a step into or out of a branch or iterator shows as a change of its `scope`.
 */
import type { JsonValue } from '../catalog/model.ts';
import type { Step, StepGraph, WorkflowDefinition } from './model.ts';
import { traitsOfStep, walkGraphs } from './steps.ts';

/** A step whose definition differs between the two versions. */
export interface StepChange {
  readonly stepId: string;
  /** Changed field paths, sorted: `retry.maxAttempts`, `choices.0.when.path`, `branches.1.steps`. */
  readonly fields: readonly string[];
}

/** The result of {@link diffWorkflows}; every list is sorted, so equal inputs give equal diffs. */
export interface WorkflowDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly StepChange[];
  readonly topLevel: readonly { readonly field: string }[];
}

const TOP_LEVEL_FIELDS = ['name', 'description', 'inputSchema', 'startAt', 'timeoutSeconds'] as const;

/** Compares version `a` (before) with version `b` (after). */
export function diffWorkflows(a: WorkflowDefinition, b: WorkflowDefinition): WorkflowDiff {
  const before = flatten(a);
  const after = flatten(b);
  const added = [...after.keys()].filter((id) => !before.has(id)).sort();
  const removed = [...before.keys()].filter((id) => !after.has(id)).sort();
  const changed: StepChange[] = [];
  for (const id of [...before.keys()].filter((k) => after.has(k)).sort()) {
    const fields: string[] = [];
    diffValues(before.get(id), after.get(id), '', fields);
    if (fields.length > 0) changed.push({ stepId: id, fields: [...new Set(fields)].sort() });
  }
  const topLevel: string[] = [];
  for (const field of TOP_LEVEL_FIELDS) {
    diffValues(a[field] as JsonValue | undefined, b[field] as JsonValue | undefined, field, topLevel);
  }
  return { added, removed, changed, topLevel: [...new Set(topLevel)].sort().map((field) => ({ field })) };
}

// Each step as comparable JSON: nested graphs reduced to their `startAt` and the ids they hold (the
// nested steps are compared on their own), plus where the step sits.
function flatten(def: WorkflowDefinition): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>();
  walkGraphs<string>(def, {
    graph: ({ owner, at }) => (owner ? `${owner.id}.${at}` : ''),
    step: ({ id, step, graph: scope }) => {
      out.set(id, { ...project(step as Step), scope });
      return undefined;
    },
  });
  return out;
}

function outline(graph: StepGraph): JsonValue {
  return { startAt: graph.startAt, steps: Object.keys(graph.steps).sort() };
}

function project(step: Step): { [key: string]: JsonValue } {
  const fields = step as unknown as { [key: string]: JsonValue };
  const children = traitsOfStep(step).children;
  if (!children) return fields;
  const value = fields[children.field] as unknown as StepGraph | StepGraph[];
  return { ...fields, [children.field]: Array.isArray(value) ? value.map(outline) : outline(value) };
}

// Leaf paths where `a` and `b` differ. Arrays compare by index, objects by key.
function diffValues(a: JsonValue | undefined, b: JsonValue | undefined, path: string, out: string[]): void {
  if (a === b) return;
  const at = (key: string | number) => (path === '' ? String(key) : `${path}.${key}`);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) diffValues(a[i], b[i], at(i), out);
    return;
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of [...keys].sort()) diffValues(a[key], b[key], at(key), out);
    return;
  }
  out.push(path === '' ? '(value)' : path);
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
