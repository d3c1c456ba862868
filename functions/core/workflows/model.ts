/**
 * The Workflow definition (docs/api.md, "Definitions"): types and schemas. Unknown fields are rejected
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
import {
  type Check,
  checked,
  discriminated,
  int,
  lazy,
  named,
  record,
  type TSchema,
  t,
  trimmed,
  withMessage,
} from '#shared/schema.ts';
import type { JsonValue } from '../catalog/model.ts';
import { jsonValueSchema, resourceIdSchema } from '../catalog/model.ts';

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
export const stepIdSchema = withMessage(
  t.String({ pattern: STEP_ID_PATTERN.source }),
  'must start with a letter and hold only letters, digits and _ (64 at most)',
);

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
export const retrySchema = t.Object(
  {
    maxAttempts: int({ minimum: 0, maximum: WORKFLOW_BOUNDS.maxRetryAttempts }),
    intervalSeconds: t.Optional(int({ minimum: 1, maximum: WORKFLOW_BOUNDS.maxRetryIntervalSeconds })),
    backoffRate: t.Optional(t.Number({ minimum: 1, maximum: WORKFLOW_BOUNDS.maxBackoffRate })),
    maxDelaySeconds: t.Optional(int({ minimum: 1, maximum: WORKFLOW_BOUNDS.maxRetryDelaySeconds })),
    jitter: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
);

const errorNameSchema = t.String({ minLength: 1, maxLength: 256 });

/** The catch list schema; `States.ALL` must be alone in its list and in the last catcher (ASL). */
export const catchSchema = checked(
  t.Array(
    t.Object(
      { errors: t.Array(errorNameSchema, { minItems: 1, maxItems: 16 }), next: stepIdSchema },
      { additionalProperties: false },
    ),
    { minItems: 1, maxItems: WORKFLOW_BOUNDS.maxCatchers },
  ),
  (value) => {
    const out: Issue[] = [];
    if (!Array.isArray(value)) return out;
    value.forEach((catcher: unknown, i) => {
      const errors = isPlainObject(catcher) && Array.isArray(catcher.errors) ? catcher.errors : [];
      if (!errors.includes('States.ALL')) return;
      if (errors.length > 1)
        out.push({ path: [i, 'errors'], message: 'States.ALL must be the only error in its list' });
      if (i !== value.length - 1)
        out.push({ path: [i, 'errors'], message: 'a catcher with States.ALL must be the last' });
    });
    return out;
  },
);

type Issue = { path: (string | number)[]; message: string };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is ConditionValue {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

// Conditions are checked by hand: a union of nine shapes reports "invalid input" with no hint of
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

const conditionCheck: Check = (value) => {
  const issues: Issue[] = [];
  conditionIssues(value, [], 1, issues);
  return issues;
};

/** The condition schema (checked by hand, see {@link Condition}). */
export const conditionSchema = checked(t.Unsafe<Condition>({}), conditionCheck);

const transition = () => ({
  next: t.Optional(stepIdSchema),
  end: t.Optional(t.Boolean()),
});

const taskOptions = () => ({
  retry: t.Optional(retrySchema),
  timeoutSeconds: t.Optional(int({ minimum: 1, maximum: WORKFLOW_BOUNDS.maxTaskTimeoutSeconds })),
  catch: t.Optional(catchSchema),
});

const jsonObjectSchema = record(lazy<JsonValue>(() => jsonValueSchema));

const strict = { additionalProperties: false } as const;

/** The steps of a graph, by id. */
const stepsSchema = () =>
  record(
    lazy<Step>(() => stepSchema),
    {
      propertyNames: withMessage(
        t.String({ pattern: STEP_ID_PATTERN.source }),
        'must start with a letter and hold only letters, digits and _ (64 at most)',
      ),
    },
  );

/** A step graph schema (`{startAt, steps}`). */
export const stepGraphSchema: TSchema & { static: StepGraph } = named(
  t.Unsafe<StepGraph>(t.Object({ startAt: stepIdSchema, steps: stepsSchema() }, strict)),
  'StepGraph',
);

/** The schema of one step, by `type`. */
export const stepSchema: TSchema & { static: Step } = named(
  discriminated('type', [
    t.Object(
      {
        type: t.Literal('agent'),
        agentId: resourceIdSchema,
        prompt: t.String({ minLength: 1, maxLength: 100_000 }),
        ...transition(),
        ...taskOptions(),
      },
      strict,
    ),
    t.Object(
      {
        type: t.Literal('tool'),
        toolId: resourceIdSchema,
        args: jsonObjectSchema,
        ...transition(),
        ...taskOptions(),
      },
      strict,
    ),
    t.Object(
      {
        type: t.Literal('choice'),
        choices: t.Array(t.Object({ when: conditionSchema, next: stepIdSchema }, strict), {
          minItems: 1,
          maxItems: WORKFLOW_BOUNDS.maxChoices,
        }),
        default: t.Optional(stepIdSchema),
      },
      strict,
    ),
    t.Object(
      {
        type: t.Literal('parallel'),
        branches: t.Array(
          lazy<StepGraph>(() => stepGraphSchema),
          {
            minItems: 1,
            maxItems: WORKFLOW_BOUNDS.maxBranches,
          },
        ),
        ...transition(),
      },
      strict,
    ),
    t.Object(
      {
        type: t.Literal('map'),
        itemsPath: t.String({ minLength: 1, maxLength: 256 }),
        maxConcurrency: t.Optional(int({ minimum: 1, maximum: WORKFLOW_BOUNDS.maxConcurrency })),
        iterator: lazy<StepGraph>(() => stepGraphSchema),
        ...transition(),
      },
      strict,
    ),
    t.Object(
      {
        type: t.Literal('approval'),
        approvers: t.Optional(
          t.Object(
            {
              roles: t.Optional(t.Array(t.String({ minLength: 1, maxLength: 128 }), { maxItems: 20 })),
              users: t.Optional(t.Array(t.String({ minLength: 1, maxLength: 128 }), { maxItems: 50 })),
            },
            strict,
          ),
        ),
        message: t.Optional(t.String({ maxLength: 4000 })),
        timeoutSeconds: t.Optional(int({ minimum: 1, maximum: WORKFLOW_BOUNDS.maxApprovalTimeoutSeconds })),
        allowRequesterApproval: t.Optional(t.Boolean()),
        catch: t.Optional(catchSchema),
        ...transition(),
      },
      strict,
    ),
    t.Object(
      {
        type: t.Literal('wait'),
        seconds: int({ minimum: 1, maximum: WORKFLOW_BOUNDS.maxWaitSeconds }),
        ...transition(),
      },
      strict,
    ),
    t.Object({ type: t.Literal('succeed') }, strict),
    t.Object(
      { type: t.Literal('fail'), error: errorNameSchema, cause: t.Optional(t.String({ maxLength: 32_768 })) },
      strict,
    ),
  ]) as unknown as TSchema & { static: Step },
  'WorkflowStep',
);

/** The workflow definition schema (field rules only; see validate.ts for graph rules). */
export const workflowSchema: TSchema & { static: WorkflowDefinition } = t.Unsafe<WorkflowDefinition>(
  t.Object(
    {
      name: trimmed(t.String({ minLength: 1, maxLength: 128 })),
      description: t.Optional(t.String({ maxLength: 2000 })),
      inputSchema: t.Optional(jsonObjectSchema),
      startAt: stepIdSchema,
      steps: stepsSchema(),
      timeoutSeconds: t.Optional(int({ minimum: 1, maximum: WORKFLOW_BOUNDS.maxWorkflowTimeoutSeconds })),
    },
    strict,
  ),
);
