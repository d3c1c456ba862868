import type { ExecutionEngine } from '#core/executions/ports.ts';
import type { ScheduleTrigger } from '#core/schedules/schedules.ts';
import type { JobRunner } from '#core/tenancy/offboarding.ts';
import { ConfigError } from '#shared/config.ts';

/*
 * What the local platform runs in-process instead of Step Functions and EventBridge Scheduler
 * (bin/local/handlers.ts, bin/local/scheduler.ts). It registers them here before it serves requests;
 * the composition roots read them only in local mode. The roots are built once per process, and a
 * platform started again in the same process registers new runtimes: so each call reads what is
 * registered now. Types only: no SDK client is bundled from here.
 */

let executionEngine: ExecutionEngine | undefined;
let jobRunner: JobRunner | undefined;
let scheduleTrigger: ScheduleTrigger | undefined;

/** Registers the local execution engine (aws-local-stepfunctions). */
export function useLocalExecutionEngine(engine: ExecutionEngine): void {
  executionEngine = engine;
}

/** Registers the runner of lifecycle jobs (the same ASL, run in-process). */
export function useLocalJobRunner(runner: JobRunner): void {
  jobRunner = runner;
}

/** Registers the in-process scheduler (croner). */
export function useLocalScheduleTrigger(trigger: ScheduleTrigger): void {
  scheduleTrigger = trigger;
}

function registered<T>(value: T | undefined, what: string): T {
  if (!value) throw new ConfigError(`Invalid Meridian configuration: no local ${what} registered`);
  return value;
}

/** The registered execution engine, read when used (the platform registers it after loading handlers). */
export const localExecutionEngine: ExecutionEngine = {
  start: (input) => registered(executionEngine, 'execution engine').start(input),
  stop: (input) => registered(executionEngine, 'execution engine').stop(input),
  redrive: (input) => registered(executionEngine, 'execution engine').redrive(input),
  sendTaskSuccess: (token, output) =>
    registered(executionEngine, 'execution engine').sendTaskSuccess(token, output),
  sendTaskFailure: (token, error, cause) =>
    registered(executionEngine, 'execution engine').sendTaskFailure(token, error, cause),
};

/** The registered job runner, read when used. */
export const localJobRunner: JobRunner = {
  start: (input) => registered(jobRunner, 'job runner').start(input),
};

/** The registered scheduler, read when used. */
export const localScheduleTrigger: ScheduleTrigger = {
  register: (tenantId, schedule) => registered(scheduleTrigger, 'scheduler').register(tenantId, schedule),
  unregister: (tenantId, scheduleId) =>
    registered(scheduleTrigger, 'scheduler').unregister(tenantId, scheduleId),
  deleteAllForTenant: (tenantId) => registered(scheduleTrigger, 'scheduler').deleteAllForTenant(tenantId),
};
