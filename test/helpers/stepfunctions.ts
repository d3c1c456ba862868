/**
 * Runs compiled ASL in aws-local-stepfunctions with local Lambda handlers, for tests and the local
 * platform. It bridges the emulator's gaps without touching the ASL that AWS runs:
 * - Node 20: the emulator calls `Promise.withResolvers` (Node 22+); {@link installPromiseWithResolvers}.
 * - Task overrides are keyed by state name, not by Lambda ARN: every Task state gets a dispatcher
 *   that picks the handler by the task's resolved `FunctionName`.
 * - `lambda:invoke` results are wrapped as `{StatusCode: 200, Payload}` like the service
 *   integration's, so the ASL's `ResultSelector` `$.Payload` works unchanged.
 * - `$$.Task.Token` does not exist locally: the run's context object supplies one (one per run),
 *   along with `$$.Execution.Name`, which the default context lacks.
 * - Wait states and retry pauses are overridden (0 ms by default) so tests do not sleep.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { JsonValue } from '#core/catalog/model.ts';
import { installPromiseWithResolvers, prepareDefinition } from '../../bin/local/runtime.ts';

export { installPromiseWithResolvers };

/** What a local Lambda handler is told besides its payload. */
export interface LocalInvocation {
  /** The Task state (the step id, for compiled workflows). */
  readonly stateName: string;
  /** The task's `FunctionName`. */
  readonly functionName: string;
  /** Whether the task waits for a task token (approval steps). */
  readonly waitsForToken: boolean;
}

/**
 * A local stand-in for a Lambda function. For `lambda:invoke` tasks, return the function's result
 * (the helper wraps it as `{StatusCode: 200, Payload}`); for `.waitForTaskToken` tasks, return what
 * `SendTaskSuccess` would send. Throw {@link taskError} to fail the task with an error name.
 */
export type LocalHandler = (
  payload: JsonValue,
  invocation: LocalInvocation,
) => Promise<JsonValue> | JsonValue;

/** An error whose `name` becomes the Step Functions error (what `Retry`/`Catch` match). */
export function taskError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Options of {@link runLocalStateMachine}. */
export interface LocalRunOptions {
  /** Handlers by Lambda function ARN (the tasks' `FunctionName`). */
  readonly handlers: Readonly<Record<string, LocalHandler>>;
  /** `$$.Execution.Name`. @default 'local-execution' */
  readonly executionName?: string;
  /** `$$.Task.Token` for every waiting task of this run. @default `token-<executionName>` */
  readonly taskToken?: string;
  /** Duration of every Wait state, in ms. @default 0 */
  readonly waitMs?: number;
  /** Pause before every retry, in ms. @default 0 */
  readonly retryMs?: number;
}

/** One entry of the emulator's event log. */
export type LocalEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** How a local execution ended. */
export interface LocalRunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: JsonValue;
  readonly error?: { readonly error: string; readonly cause: string };
  /** Every event, in order (StateEntered, StateRetried, MapIterationStarted, ...). */
  readonly events: readonly LocalEvent[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Runs `definition` locally with `input` and returns how it ended, its output or error, and the
 * event log. Never throws for a failed execution (the result says FAILED); throws if the definition
 * is refused by the emulator or a task calls a function with no handler.
 */
export async function runLocalStateMachine(
  definition: object,
  input: JsonValue,
  options: LocalRunOptions,
): Promise<LocalRunResult> {
  installPromiseWithResolvers();
  const executionName = options.executionName ?? 'local-execution';
  // The local platform's own preparation: every state indexed, and AWS's task timeouts made explicit.
  const prepared = prepareDefinition(definition);
  const { tasks, waits, retrying } = prepared.index;
  const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
  for (const [stateName, info] of tasks) {
    taskResourceLocalHandlers[stateName] = async (taskInput) => {
      const params = isObject(taskInput) ? taskInput : {};
      const functionName = typeof params.FunctionName === 'string' ? params.FunctionName : '';
      const handler = options.handlers[functionName];
      if (!handler)
        throw new Error(`No local handler for ${functionName || '(no FunctionName)'} in state ${stateName}`);
      const payload = (params.Payload ?? null) as JsonValue;
      const result = await handler(payload, { stateName, functionName, waitsForToken: info.waitsForToken });
      return info.waitsForToken ? result : { StatusCode: 200, Payload: result };
    };
  }
  // prepareDefinition returns a copy: the emulator's validator adds fields to what it is given.
  const machine = new StateMachine(prepared.definition as unknown as StateMachineDefinition);
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers,
      waitTimeOverrides: Object.fromEntries(waits.map((name) => [name, options.waitMs ?? 0])),
      retryIntervalOverrides: Object.fromEntries(retrying.map((name) => [name, options.retryMs ?? 0])),
    },
    context: {
      Execution: {
        Id: `arn:aws:states:us-east-1:000000000000:execution:local:${executionName}`,
        Name: executionName,
        Input: input,
        StartTime: new Date().toISOString(),
      },
      Task: { Token: options.taskToken ?? `token-${executionName}` },
    },
  });
  let output: JsonValue | undefined;
  let failed = false;
  try {
    output = await execution.result;
  } catch {
    failed = true;
  }
  const events: LocalEvent[] = [];
  for await (const event of execution.eventLogs) events.push(event);
  if (!failed) return { status: 'SUCCEEDED', output, events };
  const failure = events.find((e) => e.type === 'ExecutionFailed');
  const error =
    failure && 'Error' in failure
      ? {
          error: String(failure.Error),
          cause: typeof failure.Cause === 'string' ? failure.Cause : JSON.stringify(failure.Cause),
        }
      : { error: 'Unknown', cause: 'the execution failed without an ExecutionFailed event' };
  return { status: 'FAILED', error, events };
}
