/**
 * The local platform's execution engine: the same compiled ASL that Step Functions runs on AWS,
 * run in-process by aws-local-stepfunctions, with the same Lambda handlers behind its tasks. The
 * emulator's gaps are bridged here, never by changing the ASL that AWS runs:
 * - Node 20 lacks `Promise.withResolvers`, which the emulator uses: polyfilled.
 * - Task overrides are keyed by state name: each Task gets a dispatcher choosing the handler by
 *   its resolved `FunctionName`; `lambda:invoke` results are wrapped as `{StatusCode, Payload}`.
 * - `$$.Task.Token` is absent: approval tasks get a fresh token per wait, and `SendTaskSuccess` /
 *   `SendTaskFailure` resolve the promise the task is waiting on.
 * - The emulator gives tasks without `TimeoutSeconds` 60 s (AWS: no limit): the emulator's copy of
 *   the definition gets AWS's behaviour as an explicit, very long timeout.
 * - Status changes call the same status handler the EventBridge rule drives on AWS.
 */
import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { assertTenantMachine } from '#adapters/local-engine.ts';
import { ConflictError } from '#core/errors.ts';
import type { ExecutionEngine } from '#core/executions/ports.ts';

type Json = unknown;

/** Installs `Promise.withResolvers` when missing (Node 20). Idempotent. */
export function installPromiseWithResolvers(): void {
  if ('withResolvers' in Promise) return;
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      const r: { resolve?: (value: unknown) => void; reject?: (reason?: unknown) => void } = {};
      const promise = new Promise((resolve, reject) => {
        r.resolve = resolve;
        r.reject = reject;
      });
      return { promise, ...r };
    },
  });
}

/** The longest timer Node can set (~24.8 days) stands in for AWS's unbounded task wait. */
const MAX_TASK_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

interface StateIndex {
  readonly tasks: Map<string, { waitsForToken: boolean }>;
  readonly waits: string[];
  readonly retrying: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Indexes every state (nested ones too) and gives token waits AWS's no-timeout behaviour. */
export function prepareDefinition(definition: unknown): {
  definition: Record<string, unknown>;
  index: StateIndex;
} {
  const copy = structuredClone(definition) as Record<string, unknown>;
  const index: StateIndex = { tasks: new Map(), waits: [], retrying: [] };
  const machines: unknown[] = [copy];
  while (machines.length > 0) {
    const machine = machines.pop();
    if (!isObject(machine) || !isObject(machine.States)) continue;
    for (const [name, state] of Object.entries(machine.States)) {
      if (!isObject(state)) continue;
      if (state.Type === 'Task') {
        const waitsForToken =
          typeof state.Resource === 'string' && state.Resource.endsWith('.waitForTaskToken');
        index.tasks.set(name, { waitsForToken });
        if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
          state.TimeoutSeconds = waitsForToken ? MAX_TASK_SECONDS : 900;
        }
      }
      if (state.Type === 'Wait') index.waits.push(name);
      if (Array.isArray(state.Retry)) index.retrying.push(name);
      if (Array.isArray(state.Branches)) machines.push(...state.Branches);
      if (state.ItemProcessor !== undefined) machines.push(state.ItemProcessor);
      if (state.Iterator !== undefined) machines.push(state.Iterator);
    }
  }
  return { definition: copy, index };
}

/** A local Lambda: the deployed handler module's `handler`. */
export type LocalLambda = (payload: Json) => Promise<Json>;

/** Options of {@link LocalRuntime}. */
export interface LocalRuntimeOptions {
  /** Handlers by Lambda ARN (the tasks' `FunctionName`). */
  readonly lambdas: Readonly<Record<string, LocalLambda>>;
  /** The status handler, called with an EventBridge-shaped status change. */
  readonly onStatus: (event: Json) => Promise<void>;
  /** Caps Wait states and retry pauses, in ms (tests); unset runs them at their real length. */
  readonly maxWaitMs?: number;
  readonly log?: (line: string) => void;
  /**
   * Whether it refuses a call for one tenant on another tenant's machine or execution, as IAM does
   * on AWS (functions/adapters/local-engine.ts assertTenantMachine). Off only for the platform's own
   * machines (the lifecycle jobs), which no tenant owns and the API starts with its own role.
   * @default true
   */
  readonly tenantFenced?: boolean;
}

/** How many stopped runs the runtime remembers for redrives. */
const MAX_STOPPED = 1000;

interface EventRecord {
  readonly type: string;
  readonly Error?: unknown;
  readonly Cause?: unknown;
  readonly index?: number;
  readonly state?: { readonly name: string; readonly input: Json };
}

/** One run of an execution: the first, or a redrive. */
interface RunSpec {
  readonly engineArn: string;
  readonly executionId: string;
  readonly stateMachineArn: string;
  /** The definition this run executes (a redrive's starts at the resumed state). */
  readonly asl: unknown;
  /** The execution's own definition, when `asl` is a redrive's copy. */
  readonly original?: unknown;
  readonly input: Json;
  /** The execution's input (`$$.Execution.Input`), the same across redrives. */
  readonly executionInput: Json;
  readonly startDate: number;
  readonly redriveCount: number;
  readonly reuse?: { readonly states: ReadonlySet<string>; readonly results: readonly [string, Json][] };
}

interface Stopped {
  readonly run: RunSpec;
  readonly resumeAt: string;
  readonly resumeInput: Json;
  readonly results: readonly [string, Json][];
}

/** The map index a task payload carries (compiled iterator payloads put it in `state.index`). */
function mapIndexOf(payload: Record<string, unknown>): string {
  const state = payload.state;
  const index = isObject(state) ? state.index : undefined;
  return typeof index === 'number' ? String(index) : '';
}

/** The top-level state entered last and never exited: where a failed or timed-out run stopped. */
export function unfinishedState(
  events: readonly EventRecord[],
  topLevel: ReadonlySet<string>,
): { name: string; input: Json } | undefined {
  let open: { name: string; input: Json } | undefined;
  for (const event of events) {
    const name = event.state?.name;
    if (!name || event.index !== undefined || !topLevel.has(name)) continue;
    if (event.type === 'StateEntered') open = { name, input: event.state?.input ?? null };
    else if (event.type === 'StateExited' && open?.name === name) open = undefined;
  }
  return open;
}

/** Names of every state nested in `stateName` (its branches' and iterator's, at any depth). */
export function nestedStateNames(asl: unknown, stateName: string): Set<string> {
  const names = new Set<string>();
  const root = isObject(asl) && isObject(asl.States) ? asl.States[stateName] : undefined;
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const state = pending.pop();
    if (!isObject(state)) continue;
    const machines = [
      ...(Array.isArray(state.Branches) ? state.Branches : []),
      state.ItemProcessor,
      state.Iterator,
    ];
    for (const machine of machines) {
      if (!isObject(machine) || !isObject(machine.States)) continue;
      for (const [name, nested] of Object.entries(machine.States)) {
        names.add(name);
        pending.push(nested);
      }
    }
  }
  return names;
}

interface Waiter {
  readonly resolve: (value: Json) => void;
  readonly reject: (error: Error) => void;
}

/** aws-local-stepfunctions as Meridian's {@link ExecutionEngine}. */
export class LocalRuntime implements ExecutionEngine {
  private readonly runs = new Map<string, { abort: () => void; done: Promise<void> }>();
  /**
   * Every execution started by this runtime, finished ones included: as on AWS, where an execution
   * name is unique, starting the same execution again never runs it a second time (a replayed start
   * can arrive after the first run already finished).
   */
  private readonly started = new Set<string>();
  private readonly waiters = new Map<string, Waiter>();
  /** Where failed and timed-out runs stopped, so they can be redriven (in memory, bounded). */
  private readonly stopped = new Map<string, Stopped>();
  /** Redrives done, by `engineArn#redriveCount`: asking again for the same redrive runs nothing. */
  private readonly redriven = new Set<string>();

  constructor(private readonly options: LocalRuntimeOptions) {
    installPromiseWithResolvers();
  }

  private fence(tenantId: string, arn: string): void {
    if (this.options.tenantFenced ?? true) assertTenantMachine(tenantId, arn);
  }

  async start(input: Parameters<ExecutionEngine['start']>[0]): Promise<{ engineArn: string }> {
    this.fence(input.tenantId, input.stateMachineArn);
    const engineArn = `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.executionId}`;
    if (this.started.has(engineArn)) return { engineArn };
    this.run({
      engineArn,
      executionId: input.executionId,
      stateMachineArn: input.stateMachineArn,
      asl: JSON.parse(input.asl) as unknown,
      input: input.state,
      executionInput: input.state,
      startDate: Date.now(),
      redriveCount: 0,
    });
    this.started.add(engineArn);
    return { engineArn };
  }

  /**
   * Resumes a failed or timed-out run as Step Functions' RedriveExecution does, with the same ASL:
   * from the top-level state that was entered and never exited, with the input it had then. States
   * before it are not run again; inside it (a Map or Parallel), tasks that succeeded return their
   * recorded result, so only failed iterations and branches run again.
   */
  async redrive(input: Parameters<ExecutionEngine['redrive']>[0]): Promise<void> {
    this.fence(input.tenantId, input.engineArn);
    const key = `${input.engineArn}#${input.redriveCount}`;
    if (this.redriven.has(key)) return;
    const stopped = this.stopped.get(input.engineArn);
    if (!stopped || this.runs.has(input.engineArn)) {
      throw new ConflictError(
        'The local runtime cannot redrive this execution: it is running, or it stopped before this runtime started.',
      );
    }
    const machine = structuredClone(stopped.run.asl) as Record<string, unknown>;
    machine.StartAt = stopped.resumeAt;
    // Run first: if the emulator refuses the copy, the execution can still be redriven later.
    this.run({
      ...stopped.run,
      asl: machine,
      original: stopped.run.asl,
      input: stopped.resumeInput,
      redriveCount: input.redriveCount,
      reuse: { states: nestedStateNames(stopped.run.asl, stopped.resumeAt), results: stopped.results },
    });
    this.stopped.delete(input.engineArn);
    this.redriven.add(key);
  }

  private run(spec: RunSpec): void {
    const { engineArn } = spec;
    const { definition, index } = prepareDefinition(spec.asl);
    // Results of tasks that succeeded in this run, by state and map index: what a redrive reuses.
    const results = new Map<string, Json>(spec.reuse?.results ?? []);
    const reusable = spec.reuse?.states ?? new Set<string>();
    const handlers: Record<string, (taskInput: Json) => Promise<Json>> = {};
    for (const [stateName, info] of index.tasks) {
      handlers[stateName] = async (taskInput) => {
        const params = isObject(taskInput) ? taskInput : {};
        const functionName = typeof params.FunctionName === 'string' ? params.FunctionName : '';
        const lambda = this.options.lambdas[functionName];
        if (!lambda) throw new Error(`No local function ${functionName} for state ${stateName}`);
        const payload = isObject(params.Payload) ? params.Payload : {};
        const resultKey = `${stateName}|${mapIndexOf(payload)}`;
        if (reusable.has(stateName) && results.has(resultKey)) {
          // Succeeded before the redrive: Step Functions would not run it again.
          const recorded = results.get(resultKey);
          return info.waitsForToken ? recorded : { StatusCode: 200, Payload: recorded };
        }
        if (!info.waitsForToken) {
          const result = await lambda(payload);
          results.set(resultKey, result);
          return { StatusCode: 200, Payload: result };
        }
        // One token per wait, so parallel approvals resolve independently.
        const token = `local-${randomUUID()}`;
        const waiting = new Promise<Json>((resolve, reject) => this.waiters.set(token, { resolve, reject }));
        await lambda({ ...payload, taskToken: token });
        try {
          const result = await waiting;
          results.set(resultKey, result);
          return result;
        } finally {
          this.waiters.delete(token);
        }
      };
    }
    const cap = this.options.maxWaitMs;
    // A redrive's copy starts mid-way, so the states before it are unreachable: the validator would
    // refuse that, and the same definition already passed it on the first run.
    const machine = new StateMachine(
      definition as unknown as StateMachineDefinition,
      spec.redriveCount > 0 ? { validationOptions: { noValidate: true } } : undefined,
    );
    const execution = machine.run(spec.input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        ...(cap !== undefined
          ? {
              waitTimeOverrides: Object.fromEntries(index.waits.map((n) => [n, cap])),
              retryIntervalOverrides: Object.fromEntries(index.retrying.map((n) => [n, cap])),
            }
          : {}),
      },
      context: {
        Execution: {
          Id: engineArn,
          Name: spec.executionId,
          Input: spec.executionInput,
          StartTime: new Date(spec.startDate).toISOString(),
          ...(spec.redriveCount > 0
            ? { RedriveCount: spec.redriveCount, RedriveTime: new Date().toISOString() }
            : {}),
        },
        // Replaced per wait by the dispatcher above; present so `$$.Task.Token` resolves.
        Task: { Token: 'local-token' },
      } as never,
    });
    const detail = {
      executionArn: engineArn,
      stateMachineArn: spec.stateMachineArn,
      name: spec.executionId,
      startDate: spec.startDate,
      ...(spec.redriveCount > 0 ? { redriveCount: spec.redriveCount } : {}),
    };
    const topLevel = new Set(Object.keys(isObject(definition.States) ? definition.States : {}));
    const done = (async () => {
      let status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
      let output: string | null = null;
      let error: string | null = null;
      let cause: string | null = null;
      try {
        output = JSON.stringify(await execution.result);
        status = 'SUCCEEDED';
      } catch (thrown) {
        const events: EventRecord[] = [];
        for await (const event of execution.eventLogs) events.push(event as EventRecord);
        const aborted = events.some((e) => e.type === 'ExecutionAborted');
        const timedOut = events.some((e) => e.type === 'ExecutionTimeout');
        const failure = events.find((e) => e.type === 'ExecutionFailed');
        status = aborted ? 'ABORTED' : timedOut ? 'TIMED_OUT' : 'FAILED';
        // Step Functions names a whole execution's timeout `States.Timeout`; the emulator throws its
        // own `ExecutionTimeoutError`.
        error = timedOut
          ? 'States.Timeout'
          : failure?.Error !== undefined
            ? String(failure.Error)
            : thrown instanceof Error
              ? thrown.name
              : 'States.Runtime';
        cause =
          failure?.Cause !== undefined
            ? typeof failure.Cause === 'string'
              ? failure.Cause
              : JSON.stringify(failure.Cause)
            : thrown instanceof Error
              ? thrown.message
              : String(thrown);
        const open = unfinishedState(events, topLevel);
        if (status !== 'ABORTED' && open) {
          this.stopped.set(engineArn, {
            run: { ...spec, asl: spec.original ?? spec.asl },
            resumeAt: open.name,
            resumeInput: open.input,
            results: [...results],
          });
          // A bounded memory of where runs stopped: the oldest are forgotten first.
          if (this.stopped.size > MAX_STOPPED) this.stopped.delete(this.stopped.keys().next().value ?? '');
        }
      }
      this.runs.delete(engineArn);
      try {
        await this.options.onStatus({
          version: '0',
          id: randomUUID(),
          'detail-type': 'Step Functions Execution Status Change',
          source: 'aws.states',
          account: '000000000000',
          time: new Date().toISOString(),
          region: 'local',
          resources: [engineArn],
          detail: { ...detail, status, output, error, cause, stopDate: Date.now() },
        });
      } catch (failure) {
        this.options.log?.(
          `status handler failed for ${spec.executionId}: ${failure instanceof Error ? failure.message : String(failure)}`,
        );
      }
    })();
    this.runs.set(engineArn, { abort: () => execution.abort(), done });
  }

  async stop(input: Parameters<ExecutionEngine['stop']>[0]): Promise<void> {
    this.fence(input.tenantId, input.engineArn);
    this.runs.get(input.engineArn)?.abort();
  }

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    const waiter = this.waiters.get(taskToken);
    if (!waiter) throw new ConflictError('The execution is no longer waiting for this approval.');
    waiter.resolve(output);
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    const waiter = this.waiters.get(taskToken);
    if (!waiter) throw new ConflictError('The execution is no longer waiting for this approval.');
    const failure = new Error(cause);
    failure.name = error;
    waiter.reject(failure);
  }

  /** Stops every run (platform shutdown) and waits for their status to be written. */
  async close(): Promise<void> {
    for (const run of this.runs.values()) run.abort();
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
  }

  /** Runs in flight (for tests and shutdown). */
  get active(): number {
    return this.runs.size;
  }
}
