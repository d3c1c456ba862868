/**
 * The Workflow definition (docs/api.md, "Definitions"): types and zod schemas. Unknown fields are rejected
 * everywhere. The schemas check each field on its own; rules that need the whole graph (targets
 * exist, reachability, cycles, data flow) live in validate.ts (its rules in validate/).
 *
 * Data that steps read:
 * - `{{input.x}}` / path `input.x`: the execution input.
 * - `{{steps.<id>.output.x}}` / path `steps.<id>.output.x`: the output of a step guaranteed to have
 *   run before (agent, tool, approval and map steps have outputs; a parallel's branch steps are
 *   readable once the parallel completed).
 * - Inside map iterators only, `{{item.x}}` / path `item.x` (or `item` alone): the current item.
 */
import { z } from 'zod';
import type { JsonValue } from '../catalog/model.ts';
import { resourceIdSchema } from '../catalog/model.ts';

export type { JsonValue } from '../catalog/model.ts';

/** Step ids: a letter, then letters, digits or `_`; 64 characters at most. Also the ASL state name. */
export const STEP_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** A step type: the `type` of {@link Step}. What each one is and does is in steps.ts (`STEP_TRAITS`). */
export type StepType = Step['type'];

/** Step types, in the order the docs list them. */
export const STEP_TYPES = [
  'agent',
  'tool',
  'choice',
  'parallel',
  'map',
  'approval',
  'wait',
  'succeed',
  'fail',
] as const satisfies readonly StepType[];
// A step type left out of the list above fails to compile here (the check is type-only).
type NoneMissing<T extends never> = T;
export type StepTypesUnlisted = NoneMissing<Exclude<StepType, (typeof STEP_TYPES)[number]>>;

/** Numeric bounds of workflow fields. */
export const WORKFLOW_BOUNDS = Object.freeze({
  maxRetryAttempts: 10,
  maxRetryIntervalSeconds: 3600,
  maxBackoffRate: 10,
  maxRetryDelaySeconds: 86_400,
  maxTaskTimeoutSeconds: 86_400,
  /** Approvals wait for people: up to 30 days. */
  maxApprovalTimeoutSeconds: 2_592_000,
  /** A Standard execution lasts one year at most. */
  maxWaitSeconds: 31_536_000,
  maxWorkflowTimeoutSeconds: 31_536_000,
  /** Each branch adds one nested `States.JsonMerge`; Step Functions allows 10 nested intrinsics. */
  maxBranches: 10,
  /** Inline Map runs at most 40 iterations at once. */
  maxConcurrency: 40,
  maxChoices: 100,
  maxCatchers: 16,
});

/** A step id. */
export const stepIdSchema = z
  .string()
  .regex(STEP_ID_PATTERN, 'must start with a letter and hold only letters, digits and _ (64 at most)');

/** Retry policy of a task step. Backoff: `intervalSeconds * backoffRate^attempt`, capped. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly intervalSeconds?: number;
  readonly backoffRate?: number;
  readonly maxDelaySeconds?: number;
  /** Full jitter (random wait between 0 and the computed delay). */
  readonly jitter?: boolean;
}

/** Where to go when a step fails with one of `errors` (`States.ALL` matches any, alone and last). */
export interface Catcher {
  readonly errors: readonly string[];
  readonly next: string;
}

/** A scalar a condition compares with. */
export type ConditionValue = string | number | boolean | null;

/**
 * A choice condition. A leaf compares the value at `path` (`input.x`, `steps.a.output.data.label`,
 * `item.x` inside map iterators) with exactly one operator; `and`, `or`, `not` combine them. A leaf
 * is false when the value is missing or of another type (except `exists: false`, `notEquals`).
 */
export type Condition =
  | { readonly path: string; readonly equals: ConditionValue }
  | { readonly path: string; readonly notEquals: ConditionValue }
  | { readonly path: string; readonly greaterThan: number | string }
  | { readonly path: string; readonly lessThan: number | string }
  | { readonly path: string; readonly contains: string }
  | { readonly path: string; readonly exists: boolean }
  | { readonly and: readonly Condition[] }
  | { readonly or: readonly Condition[] }
  | { readonly not: Condition };

/** Comparison operators of a condition leaf. */
export const CONDITION_OPERATORS = [
  'equals',
  'notEquals',
  'greaterThan',
  'lessThan',
  'contains',
  'exists',
] as const;

/** Deepest `and`/`or`/`not` nesting accepted. */
export const MAX_CONDITION_DEPTH = 16;

interface Transition {
  readonly next?: string;
  readonly end?: boolean;
}

interface TaskOptions {
  readonly retry?: RetryPolicy;
  readonly timeoutSeconds?: number;
  readonly catch?: readonly Catcher[];
}

/** Runs an agent on `prompt` (a template). Output: `{text, data?, usage, costUsd}`. */
export interface AgentStep extends Transition, TaskOptions {
  readonly type: 'agent';
  readonly agentId: string;
  readonly prompt: string;
}

/** Calls a tool with `args` (any JSON; string values are templates). */
export interface ToolStep extends Transition, TaskOptions {
  readonly type: 'tool';
  readonly toolId: string;
  readonly args: { readonly [key: string]: JsonValue };
}

/** One branch of a choice. */
export interface ChoiceRule {
  readonly when: Condition;
  readonly next: string;
}

/** Goes to the `next` of the first rule whose condition holds, else to `default` (else fails). */
export interface ChoiceStep {
  readonly type: 'choice';
  readonly choices: readonly ChoiceRule[];
  readonly default?: string;
}

/** A self-contained graph of steps: a branch, an iterator, or the workflow itself. */
export interface StepGraph {
  readonly startAt: string;
  readonly steps: { readonly [stepId: string]: Step };
}

/** Runs branches at once; afterwards every branch's step outputs are readable. */
export interface ParallelStep extends Transition {
  readonly type: 'parallel';
  readonly branches: readonly StepGraph[];
}

/**
 * Runs `iterator` once per item of the array at `itemsPath`. Output: an array with, per item, the
 * outputs of the iterator's steps: `steps.<mapId>.output.<i>.<iteratorStepId>.output`.
 */
export interface MapStep extends Transition {
  readonly type: 'map';
  readonly itemsPath: string;
  readonly maxConcurrency?: number;
  readonly iterator: StepGraph;
}

/** Who may decide an approval. */
export interface Approvers {
  readonly roles?: readonly string[];
  readonly users?: readonly string[];
}

/** Waits for a person's decision. Output: `{decision: 'approve'|'reject', decidedBy, comment?}`. */
export interface ApprovalStep extends Transition {
  readonly type: 'approval';
  readonly approvers?: Approvers;
  readonly message?: string;
  readonly timeoutSeconds?: number;
  /** Whether the person who started the execution may decide. Default false. */
  readonly allowRequesterApproval?: boolean;
  /** Where to go on failure, e.g. `States.Timeout` when nobody decided in time. */
  readonly catch?: readonly Catcher[];
}

/** Pauses for `seconds`. */
export interface WaitStep extends Transition {
  readonly type: 'wait';
  readonly seconds: number;
}

/** Ends the execution (or the branch/iteration) successfully. */
export interface SucceedStep {
  readonly type: 'succeed';
}

/** Ends the execution as failed with `error` and `cause`. */
export interface FailStep {
  readonly type: 'fail';
  readonly error: string;
  readonly cause?: string;
}

/** Any step. */
export type Step =
  | AgentStep
  | ToolStep
  | ChoiceStep
  | ParallelStep
  | MapStep
  | ApprovalStep
  | WaitStep
  | SucceedStep
  | FailStep;

/** A workflow definition, as saved (each save is an immutable version). */
export interface WorkflowDefinition extends StepGraph {
  readonly name: string;
  readonly description?: string;
  /** JSON Schema (2020-12) the execution input must match; describes an object. */
  readonly inputSchema?: { readonly [key: string]: JsonValue };
  /** Whole-execution timeout. */
  readonly timeoutSeconds?: number;
}

/** The retry policy schema. */
export const retrySchema = z.strictObject({
  maxAttempts: z.int().min(0).max(WORKFLOW_BOUNDS.maxRetryAttempts),
  intervalSeconds: z.int().min(1).max(WORKFLOW_BOUNDS.maxRetryIntervalSeconds).optional(),
  backoffRate: z.number().min(1).max(WORKFLOW_BOUNDS.maxBackoffRate).optional(),
  maxDelaySeconds: z.int().min(1).max(WORKFLOW_BOUNDS.maxRetryDelaySeconds).optional(),
  jitter: z.boolean().optional(),
});

const errorNameSchema = z.string().min(1).max(256);

/** The catch list schema; `States.ALL` must be alone in its list and in the last catcher (ASL). */
export const catchSchema = z
  .array(z.strictObject({ errors: z.array(errorNameSchema).min(1).max(16), next: stepIdSchema }))
  .min(1)
  .max(WORKFLOW_BOUNDS.maxCatchers)
  .superRefine((catchers, ctx) => {
    catchers.forEach((catcher, i) => {
      if (!catcher.errors.includes('States.ALL')) return;
      if (catcher.errors.length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'errors'],
          message: 'States.ALL must be the only error in its list',
        });
      }
      if (i !== catchers.length - 1) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'errors'],
          message: 'a catcher with States.ALL must be the last',
        });
      }
    });
  });

type Issue = { path: (string | number)[]; message: string };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is ConditionValue {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

// Conditions are checked by hand: a zod union of nine shapes reports "invalid input" with no hint of
// which operator was meant. Depth is bounded so hostile nesting cannot exhaust the stack.
function conditionIssues(value: unknown, path: (string | number)[], depth: number, out: Issue[]): void {
  if (depth > MAX_CONDITION_DEPTH) {
    out.push({ path, message: `conditions nest at most ${MAX_CONDITION_DEPTH} levels` });
    return;
  }
  if (value === undefined) {
    out.push({ path, message: 'required' });
    return;
  }
  if (!isPlainObject(value)) {
    out.push({ path, message: 'must be a condition object' });
    return;
  }
  const keys = Object.keys(value);
  for (const combinator of ['and', 'or'] as const) {
    if (!(combinator in value)) continue;
    const list = value[combinator];
    for (const key of keys)
      if (key !== combinator) out.push({ path: [...path, key], message: 'unknown field' });
    if (!Array.isArray(list) || list.length === 0 || list.length > 100) {
      out.push({ path: [...path, combinator], message: 'must be a list of 1 to 100 conditions' });
      return;
    }
    list.forEach((inner, i) => {
      conditionIssues(inner, [...path, combinator, i], depth + 1, out);
    });
    return;
  }
  if ('not' in value) {
    for (const key of keys) if (key !== 'not') out.push({ path: [...path, key], message: 'unknown field' });
    conditionIssues(value.not, [...path, 'not'], depth + 1, out);
    return;
  }
  const operators = CONDITION_OPERATORS.filter((op) => op in value);
  for (const key of keys) {
    if (key !== 'path' && !(CONDITION_OPERATORS as readonly string[]).includes(key)) {
      out.push({ path: [...path, key], message: 'unknown field' });
    }
  }
  if (typeof value.path !== 'string') {
    out.push({
      path: [...path, 'path'],
      message: value.path === undefined ? 'required' : 'must be a string',
    });
  }
  if (operators.length !== 1) {
    out.push({
      path,
      message: `needs exactly one of ${CONDITION_OPERATORS.join(', ')} (or and, or, not); found ${operators.length}`,
    });
    return;
  }
  const op = operators[0] as (typeof CONDITION_OPERATORS)[number];
  const operand = value[op];
  const ok =
    op === 'equals' || op === 'notEquals'
      ? isScalar(operand)
      : op === 'greaterThan' || op === 'lessThan'
        ? (typeof operand === 'number' && Number.isFinite(operand)) || typeof operand === 'string'
        : op === 'contains'
          ? typeof operand === 'string' && operand.length > 0
          : typeof operand === 'boolean';
  if (!ok) {
    const expected =
      op === 'equals' || op === 'notEquals'
        ? 'a string, number, boolean or null'
        : op === 'greaterThan' || op === 'lessThan'
          ? 'a number or a string'
          : op === 'contains'
            ? 'a non-empty string'
            : 'a boolean';
    out.push({ path: [...path, op], message: `must be ${expected}` });
  }
}

/** The condition schema (checked by hand, see {@link Condition}). */
export const conditionSchema: z.ZodType<Condition> = z.custom<Condition>().superRefine((value, ctx) => {
  const issues: Issue[] = [];
  conditionIssues(value, [], 1, issues);
  for (const issue of issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});

const transition = {
  next: stepIdSchema.optional(),
  end: z.boolean().optional(),
};

const taskOptions = {
  retry: retrySchema.optional(),
  timeoutSeconds: z.int().min(1).max(WORKFLOW_BOUNDS.maxTaskTimeoutSeconds).optional(),
  catch: catchSchema.optional(),
};

const jsonObjectSchema = z.record(z.string(), z.json());

/** A step graph schema (`{startAt, steps}`). */
export const stepGraphSchema: z.ZodType<StepGraph> = z.lazy(() =>
  z.strictObject({ startAt: stepIdSchema, steps: z.record(stepIdSchema, stepSchema) }),
);

/** The schema of one step, by `type`. */
export const stepSchema: z.ZodType<Step> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('agent'),
      agentId: resourceIdSchema,
      prompt: z.string().min(1).max(100_000),
      ...transition,
      ...taskOptions,
    }),
    z.strictObject({
      type: z.literal('tool'),
      toolId: resourceIdSchema,
      args: jsonObjectSchema,
      ...transition,
      ...taskOptions,
    }),
    z.strictObject({
      type: z.literal('choice'),
      choices: z
        .array(z.strictObject({ when: conditionSchema, next: stepIdSchema }))
        .min(1)
        .max(WORKFLOW_BOUNDS.maxChoices),
      default: stepIdSchema.optional(),
    }),
    z.strictObject({
      type: z.literal('parallel'),
      branches: z.array(stepGraphSchema).min(1).max(WORKFLOW_BOUNDS.maxBranches),
      ...transition,
    }),
    z.strictObject({
      type: z.literal('map'),
      itemsPath: z.string().min(1).max(256),
      maxConcurrency: z.int().min(1).max(WORKFLOW_BOUNDS.maxConcurrency).optional(),
      iterator: stepGraphSchema,
      ...transition,
    }),
    z.strictObject({
      type: z.literal('approval'),
      approvers: z
        .strictObject({
          roles: z.array(z.string().min(1).max(128)).max(20).optional(),
          users: z.array(z.string().min(1).max(128)).max(50).optional(),
        })
        .optional(),
      message: z.string().max(4000).optional(),
      timeoutSeconds: z.int().min(1).max(WORKFLOW_BOUNDS.maxApprovalTimeoutSeconds).optional(),
      allowRequesterApproval: z.boolean().optional(),
      catch: catchSchema.optional(),
      ...transition,
    }),
    z.strictObject({
      type: z.literal('wait'),
      seconds: z.int().min(1).max(WORKFLOW_BOUNDS.maxWaitSeconds),
      ...transition,
    }),
    z.strictObject({ type: z.literal('succeed') }),
    z.strictObject({
      type: z.literal('fail'),
      error: errorNameSchema,
      cause: z.string().max(32_768).optional(),
    }),
  ]),
);

/** The workflow definition schema (field rules only; see validate.ts for graph rules). */
export const workflowSchema: z.ZodType<WorkflowDefinition> = z.strictObject({
  name: z.string().trim().min(1).max(128),
  description: z.string().max(2000).optional(),
  inputSchema: jsonObjectSchema.optional(),
  startAt: stepIdSchema,
  steps: z.record(stepIdSchema, stepSchema),
  timeoutSeconds: z.int().min(1).max(WORKFLOW_BOUNDS.maxWorkflowTimeoutSeconds).optional(),
});
