/**
 * Compiles a validated workflow to Amazon States Language: JSONPath only (no JSONata, no variables,
 * no Distributed Map, which the local emulator cannot run), one state per step, deterministic output.
 *
 * Execution data: the execution starts with `{input, steps: {}}`; each step writes
 * `$.steps.<stepId>` = `{output}` (a catch adds `$.steps.<stepId>.error` = `{Error, Cause}`).
 * - agent/tool: a `lambda:invoke` Task calling the step runner with the raw templates and the whole
 *   state; `ResultSelector` keeps `$.Payload` as `output`.
 * - parallel: each branch works on a copy of the state; the Parallel's `ResultSelector` rebuilds the
 *   state with every branch's `steps` merged by nested `States.JsonMerge` (so no extra state).
 * - map: each iteration's input is `{input, outer, steps: {}, item}`: `outer` holds the steps that ran
 *   before the map (read-only), `steps` only the iteration's own, so the map's output is small: an
 *   array with, per item, the iterator's steps (`[{<iteratorStepId>: {output}}]`); the iterator's
 *   last states select `$.steps` with `OutputPath`. Task payloads inside an iterator rebuild the usual
 *   `{input, steps, item}` view, so the runner always sees one shape.
 * - approval: a `lambda:invoke.waitForTaskToken` Task; the resumer's `SendTaskSuccess` output must be
 *   `{output: {decision, decidedBy, comment}}`.
 */
import type { JsonValue } from '../catalog/model.ts';
import { type FieldProblem, PayloadTooLargeError, ValidationError } from '../errors.ts';
import type { Catcher, Condition, RetryPolicy, Step, StepGraph, WorkflowDefinition } from './model.ts';
import { traitsOfStep, walkGraphs } from './steps.ts';
import { type DataRoot, parseDataPath, toJsonPath } from './templates.ts';

/** Everything compilation needs besides the definition. */
export interface CompileOptions {
  /** ARN of the Lambda function that runs agent and tool steps. */
  readonly stepRunnerArn: string;
  /** ARN of the Lambda function that records a pending approval and its task token. */
  readonly approvalHandlerArn: string;
  /** Versions the execution is pinned to, by agent id and tool id. */
  readonly pins: {
    readonly agents: Readonly<Record<string, number>>;
    readonly tools: Readonly<Record<string, number>>;
  };
  readonly workflowId: string;
  /** The workflow version being compiled. */
  readonly version: number;
}

/** One ASL state (or any ASL object): plain JSON. */
export type AslObject = { [key: string]: JsonValue };

/** A compiled state machine definition. */
export interface AslDefinition {
  readonly Comment: string;
  readonly StartAt: string;
  readonly States: { readonly [name: string]: AslObject };
  readonly TimeoutSeconds?: number;
}

/** The result of {@link compileWorkflow}. */
export interface CompiledWorkflow {
  /** The definition, keys sorted (equal to `JSON.parse(json)`). */
  readonly asl: AslDefinition;
  /** The definition serialized: byte-identical for the same input and options. */
  readonly json: string;
  /** States in the definition, nested ones included. */
  readonly stateCount: number;
}

/** Resource of agent and tool tasks in the `aws` partition (see {@link lambdaInvokeResource}). */
export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
/** Resource of approval tasks in the `aws` partition (see {@link lambdaInvokeResource}). */
export const LAMBDA_INVOKE_WAIT = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/**
 * The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`, …). The compiler takes it from the step
 * runner's ARN, which the stack builds in the partition it is deployed to.
 */
export function partitionOf(arn: string): string {
  const [prefix, partition] = arn.split(':');
  if (prefix !== 'arn' || !partition) throw new Error(`Not an ARN: ${arn}`);
  return partition;
}

/** The Lambda service integration's resource in `partition`, waiting for a task token or not. */
export function lambdaInvokeResource(partition: string, waitForTaskToken: boolean): string {
  return `arn:${partition}:states:::lambda:invoke${waitForTaskToken ? '.waitForTaskToken' : ''}`;
}

/** Step Functions refuses state machine definitions larger than this (bytes). */
export const MAX_ASL_BYTES = 1024 * 1024;

/** Transient Lambda service errors, retried on every Lambda task as AWS recommends. */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  // The invoke itself timed out on the service side; AWS's guidance lists it with the others.
  'Lambda.ClientExecutionTimeoutException',
] as const;

const LAMBDA_RETRIER: AslObject = {
  ErrorEquals: [...LAMBDA_TRANSIENT_ERRORS],
  IntervalSeconds: 1,
  MaxAttempts: 3,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};

const STEP_ROOTS: readonly DataRoot[] = ['input', 'steps', 'item'];

/** Where a graph sits: the workflow itself, or (inside a map iterator) which steps are the iteration's own. */
interface Scope {
  /** Step ids whose outputs live in the iteration's `$.steps`; undefined outside iterators. */
  readonly local: ReadonlySet<string> | undefined;
  /** The top graph of an iterator: its end states select `$.steps` as the iteration's output. */
  readonly iteratorTop: boolean;
}

/**
 * Compiles a validated workflow (see `validateWorkflow`) to ASL. Throws `ValidationError` when an
 * agent or tool the workflow uses has no pinned version, `PayloadTooLargeError` when the compiled
 * definition exceeds Step Functions' 1 MB limit (a definition near 1 MB grows when compiled).
 */
export function compileWorkflow(def: WorkflowDefinition, options: CompileOptions): CompiledWorkflow {
  const compiler = new Compiler(options);
  const graph = compiler.graph(def, { local: undefined, iteratorTop: false }, 'steps');
  if (compiler.problems.length > 0) {
    throw new ValidationError(
      'The workflow uses agents or tools without a pinned version.',
      compiler.problems,
    );
  }
  const definition: AslObject = {
    Comment: `Meridian workflow ${options.workflowId} version ${options.version}`,
    StartAt: graph.StartAt,
    States: graph.States,
  };
  if (def.timeoutSeconds !== undefined) definition.TimeoutSeconds = def.timeoutSeconds;
  const asl = sortKeys(definition) as unknown as AslDefinition;
  const json = JSON.stringify(asl);
  const bytes = new TextEncoder().encode(json).byteLength;
  if (bytes > MAX_ASL_BYTES) {
    throw new PayloadTooLargeError(
      `The compiled state machine is ${bytes} bytes; Step Functions accepts ${MAX_ASL_BYTES}. Shorten prompts or args, or split the workflow.`,
    );
  }
  return { asl, json, stateCount: countStates(asl) };
}

/** Counts the states of an ASL definition, including those inside Parallel branches and Map processors. */
export function countStates(asl: unknown): number {
  let count = 0;
  const machines: unknown[] = [asl];
  while (machines.length > 0) {
    const machine = machines.pop();
    if (!isObject(machine) || !isObject(machine.States)) continue;
    for (const state of Object.values(machine.States)) {
      count++;
      if (!isObject(state)) continue;
      if (Array.isArray(state.Branches)) machines.push(...state.Branches);
      if (state.ItemProcessor !== undefined) machines.push(state.ItemProcessor);
      if (state.Iterator !== undefined) machines.push(state.Iterator);
    }
  }
  return count;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Object keys sorted at every level: JSON object order carries no meaning in ASL, so sorting makes
// the output canonical. Arrays (Choices, Retry, Catch, Branches) keep their order, which does.
function sortKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(value).sort()) {
    // defineProperty: a plain assignment of `__proto__` would set the prototype instead of a key.
    Object.defineProperty(out, key, {
      value: sortKeys(value[key] as JsonValue),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

class Compiler {
  readonly problems: FieldProblem[] = [];

  constructor(private readonly options: CompileOptions) {}

  graph(graph: StepGraph, scope: Scope, path: string): { StartAt: string; States: AslObject } {
    const states: AslObject = {};
    for (const [id, step] of Object.entries(graph.steps)) {
      states[id] = this.step(id, step, scope, `${path}.${id}`);
    }
    return { StartAt: graph.startAt, States: states };
  }

  private comment(id: string, type: string): string {
    return `${type} step ${id} (workflow ${this.options.workflowId} version ${this.options.version})`;
  }

  private step(id: string, step: Step, scope: Scope, path: string): AslObject {
    const state = this.body(id, step, scope, path);
    state.Comment = this.comment(id, step.type);
    const { transitions } = traitsOfStep(step);
    // Choice and Fail states end with their own fields (or not at all): no Next, End or OutputPath.
    if (transitions === 'choices' || transitions === 'fail') return state;
    const next = (step as { readonly next?: string }).next;
    if (transitions === 'next') {
      if (next !== undefined) state.Next = next;
      else state.End = true;
    }
    // The iteration's output is its own steps (see the module comment).
    if (scope.iteratorTop && next === undefined) state.OutputPath = '$.steps';
    return state;
  }

  private body(id: string, step: Step, scope: Scope, path: string): AslObject {
    const { workflowId, version } = this.options;
    switch (step.type) {
      case 'agent':
      case 'tool': {
        const isAgent = step.type === 'agent';
        const refId = isAgent ? step.agentId : step.toolId;
        const pinned = (isAgent ? this.options.pins.agents : this.options.pins.tools)[refId];
        if (pinned === undefined) {
          this.problems.push({
            path: `${path}.${isAgent ? 'agentId' : 'toolId'}`,
            message: `no pinned version for ${step.type} ${refId}`,
          });
        }
        const payload: AslObject = {
          kind: step.type,
          workflowId,
          workflowVersion: version,
          stepId: id,
          ref: { id: refId, version: pinned ?? 0 },
          'executionId.$': '$$.Execution.Name',
          ...stateView(scope),
        };
        if (step.type === 'agent') payload.prompt = step.prompt;
        else payload.args = step.args as AslObject;
        const state: AslObject = {
          Type: 'Task',
          Resource: lambdaInvokeResource(partitionOf(this.options.stepRunnerArn), false),
          Parameters: { FunctionName: this.options.stepRunnerArn, Payload: payload },
          ResultSelector: { 'output.$': '$.Payload' },
          ResultPath: `$.steps.${id}`,
          Retry: retriers(step.retry),
        };
        if (step.timeoutSeconds !== undefined) state.TimeoutSeconds = step.timeoutSeconds;
        if (step.catch) state.Catch = catchers(id, step.catch);
        return state;
      }
      case 'approval': {
        const payload: AslObject = {
          'taskToken.$': '$$.Task.Token',
          'executionId.$': '$$.Execution.Name',
          workflowId,
          workflowVersion: version,
          stepId: id,
          approvers: { roles: [...(step.approvers?.roles ?? [])], users: [...(step.approvers?.users ?? [])] },
          allowRequesterApproval: step.allowRequesterApproval ?? false,
          // Who and what the run is for: the approval is recorded in the right tenant.
          'context.$': '$.context',
        };
        if (step.message !== undefined) payload.message = step.message;
        if (step.timeoutSeconds !== undefined) payload.timeoutSeconds = step.timeoutSeconds;
        const state: AslObject = {
          Type: 'Task',
          Resource: lambdaInvokeResource(partitionOf(this.options.approvalHandlerArn), true),
          Parameters: { FunctionName: this.options.approvalHandlerArn, Payload: payload },
          ResultPath: `$.steps.${id}`,
          Retry: [LAMBDA_RETRIER],
        };
        if (step.timeoutSeconds !== undefined) state.TimeoutSeconds = step.timeoutSeconds;
        if (step.catch) state.Catch = catchers(id, step.catch);
        return state;
      }
      case 'choice': {
        const state: AslObject = {
          Type: 'Choice',
          Choices: step.choices.map((rule) => ({ ...condition(rule.when, scope), Next: rule.next })),
        };
        if (step.default !== undefined) state.Default = step.default;
        return state;
      }
      case 'parallel': {
        const branchScope: Scope = { local: scope.local, iteratorTop: false };
        const selector: AslObject = {
          'input.$': '$[0].input',
          'steps.$': mergeBranchSteps(step.branches.length),
          'context.$': '$[0].context',
        };
        // Inside an iterator the state also carries `outer`, `item` and `index`: keep them.
        if (scope.local) {
          selector['outer.$'] = '$[0].outer';
          selector['item.$'] = '$[0].item';
          selector['index.$'] = '$[0].index';
        }
        return {
          Type: 'Parallel',
          Branches: step.branches.map((branch, i) =>
            this.graph(branch, branchScope, `${path}.branches.${i}.steps`),
          ),
          // No ResultPath: the rebuilt state replaces the input (the default `$`).
          ResultSelector: selector,
        };
      }
      case 'map': {
        const iteratorScope: Scope = { local: iteratorLocalIds(step.iterator), iteratorTop: true };
        const processor = this.graph(step.iterator, iteratorScope, `${path}.iterator.steps`);
        const state: AslObject = {
          Type: 'Map',
          ItemsPath: dataPath(step.itemsPath, scope),
          ItemSelector: {
            'input.$': '$.input',
            'outer.$': scope.local ? 'States.JsonMerge($.outer, $.steps, false)' : '$.steps',
            steps: {},
            'item.$': '$$.Map.Item.Value',
            'index.$': '$$.Map.Item.Index',
            'context.$': '$.context',
          },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: processor.StartAt,
            States: processor.States,
          },
          ResultPath: `$.steps.${id}.output`,
        };
        if (step.maxConcurrency !== undefined) state.MaxConcurrency = step.maxConcurrency;
        return state;
      }
      case 'wait':
        return { Type: 'Wait', Seconds: step.seconds };
      case 'succeed':
        return { Type: 'Succeed' };
      case 'fail': {
        const state: AslObject = { Type: 'Fail', Error: step.error };
        if (step.cause !== undefined) state.Cause = step.cause;
        return state;
      }
    }
  }
}

// What the runner receives as `state`: always `{input, steps, context, item?, index?}`. Inside an iterator, the
// steps before the map (`outer`) and the iteration's own are merged back into one `steps`.
function stateView(scope: Scope): AslObject {
  if (!scope.local) return { 'state.$': '$' };
  return {
    state: {
      'input.$': '$.input',
      'item.$': '$.item',
      'index.$': '$.index',
      'context.$': '$.context',
      'steps.$': 'States.JsonMerge($.outer, $.steps, false)',
    },
  };
}

// `$[0].steps` merged with `$[1].steps`, ... (shallow merge: step ids are unique, so no clashes).
function mergeBranchSteps(count: number): string {
  let expression = '$[0].steps';
  for (let i = 1; i < count; i++) expression = `States.JsonMerge(${expression}, $[${i}].steps, false)`;
  return expression;
}

// Ids of the steps inside an iterator, at any depth: every other step ran before the map and is read
// from `$.outer`. (A nested iterator's steps have their own `$.steps`, but validation lets nothing
// outside that iterator read them, so counting them here changes no path.)
function iteratorLocalIds(graph: StepGraph): Set<string> {
  const ids = new Set<string>();
  walkGraphs(graph, {
    step: ({ id }) => {
      ids.add(id);
      return undefined;
    },
  });
  return ids;
}

function dataPath(path: string, scope: Scope): string {
  const parsed = parseDataPath(path, STEP_ROOTS);
  // Validation guarantees the path parses; this only guards misuse of the compiler.
  if (!parsed.ok) throw new ValidationError(`Invalid data path ${path}`, [{ path, message: parsed.message }]);
  const local = scope.local;
  return toJsonPath(parsed.ref, (stepId) => local !== undefined && !local.has(stepId));
}

function retriers(retry: RetryPolicy | undefined): JsonValue[] {
  const list: JsonValue[] = [LAMBDA_RETRIER];
  if (!retry) return list;
  const retrier: AslObject = { ErrorEquals: ['States.ALL'], MaxAttempts: retry.maxAttempts };
  if (retry.intervalSeconds !== undefined) retrier.IntervalSeconds = retry.intervalSeconds;
  if (retry.backoffRate !== undefined) retrier.BackoffRate = retry.backoffRate;
  if (retry.maxDelaySeconds !== undefined) retrier.MaxDelaySeconds = retry.maxDelaySeconds;
  if (retry.jitter) retrier.JitterStrategy = 'FULL';
  list.push(retrier);
  return list;
}

function catchers(id: string, list: readonly Catcher[]): JsonValue[] {
  return list.map((c) => ({ ErrorEquals: [...c.errors], Next: c.next, ResultPath: `$.steps.${id}.error` }));
}

// StringMatches treats `*` as a wildcard and `\` as the escape: escape both in the literal.
function wildcardLiteral(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('*', '\\*');
}

/**
 * A condition as an ASL choice rule (without `Next`). Leaves are guarded with `IsPresent` and a type
 * test, the pattern AWS documents, so a missing or differently typed value makes the leaf false
 * instead of failing the execution with `States.Runtime`.
 */
function condition(c: Condition, scope: Scope): AslObject {
  if ('and' in c) return { And: c.and.map((inner) => condition(inner, scope)) };
  if ('or' in c) return { Or: c.or.map((inner) => condition(inner, scope)) };
  if ('not' in c) return { Not: condition(c.not, scope) };
  const variable = dataPath(c.path, scope);
  const guarded = (typeTest: string | undefined, rule: AslObject): AslObject => ({
    And: [
      { Variable: variable, IsPresent: true },
      ...(typeTest ? [{ Variable: variable, [typeTest]: true }] : []),
      { Variable: variable, ...rule },
    ],
  });
  const equals = (value: string | number | boolean | null): AslObject => {
    if (value === null) return guarded(undefined, { IsNull: true });
    if (typeof value === 'string') return guarded('IsString', { StringEquals: value });
    if (typeof value === 'number') return guarded('IsNumeric', { NumericEquals: value });
    return guarded('IsBoolean', { BooleanEquals: value });
  };
  if ('equals' in c) return equals(c.equals);
  if ('notEquals' in c) return { Not: equals(c.notEquals) };
  if ('greaterThan' in c) {
    return typeof c.greaterThan === 'number'
      ? guarded('IsNumeric', { NumericGreaterThan: c.greaterThan })
      : guarded('IsString', { StringGreaterThan: c.greaterThan });
  }
  if ('lessThan' in c) {
    return typeof c.lessThan === 'number'
      ? guarded('IsNumeric', { NumericLessThan: c.lessThan })
      : guarded('IsString', { StringLessThan: c.lessThan });
  }
  if ('contains' in c) return guarded('IsString', { StringMatches: `*${wildcardLiteral(c.contains)}*` });
  return { Variable: variable, IsPresent: c.exists };
}
