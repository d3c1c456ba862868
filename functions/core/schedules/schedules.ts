import type { StartDeps } from '#core/executions/deps.ts';
import { ssoAllows } from '../access/sso.ts';
import type { AuditContext } from '../audit/audit.ts';
import { canonicalJson } from '../audit/audit.ts';
import { DomainError, ForbiddenError, NotFoundError, TransientError, ValidationError } from '../errors.ts';
import { inputProblems } from '../executions/input-schema.ts';
import { type StartResult, startExecution } from '../executions/start.ts';
import { ID_PATTERN, newId } from '../ids.ts';
import type { RequestMeta, TenantPrincipal } from '../principal.ts';
import { actingUser } from '../tenancy/api-keys.ts';
import { audited, type Caller } from '../tenancy/context.ts';
import type { Page, PageRequest } from '../tenancy/model.ts';
import type { RoleStore } from '../tenancy/ports.ts';
import { resolvePermissions } from '../tenancy/roles.ts';
import type { Environment } from '../versioning/model.ts';
import type { DefinitionStore } from '../versioning/ports.ts';
import type { WorkflowDefinition } from '../workflows/model.ts';
import { CronError, isIanaTimeZone, parseCron } from './cron.ts';

/** A schedule: a cron in an IANA time zone that starts one workflow in one environment. */
export interface Schedule {
  readonly scheduleId: string;
  readonly workflowId: string;
  /** Five fields, see cron.ts. */
  readonly cron: string;
  readonly timeZone: string;
  readonly input: Record<string, unknown>;
  readonly environment: Environment;
  readonly enabled: boolean;
  readonly description?: string;
  readonly createdAt: string;
  /** The person the runs are requested for (also when created through an API key). */
  readonly createdBy: string;
}

/** Schedules a tenant may have, and schedules one workflow may have. */
export const MAX_SCHEDULES_PER_TENANT = 100;
export const MAX_SCHEDULES_PER_WORKFLOW = 10;

/** A schedule's input, serialized: far below an item's 400 KB, since every firing copies it into a run. */
export const MAX_SCHEDULE_INPUT_BYTES = 16 * 1024;

/**
 * A firing whose time lies further back than this is refused (the AWS target's retries stop well
 * before it); one further ahead than the clock skew allowance is not a firing at all.
 */
export const MAX_FIRE_AGE_SECONDS = 60 * 60;
export const MAX_FIRE_AHEAD_SECONDS = 5 * 60;

/** Persistence of schedules. */
export interface ScheduleStore {
  /** Refuses (409) beyond the tenant's and the workflow's caps. */
  create(tenantId: string, schedule: Schedule, audit: AuditContext): Promise<void>;
  get(tenantId: string, scheduleId: string): Promise<Schedule | undefined>;
  delete(tenantId: string, schedule: Schedule, audit: AuditContext): Promise<void>;
  /** A workflow's schedules, oldest first. */
  listForWorkflow(tenantId: string, workflowId: string, page: PageRequest): Promise<Page<Schedule>>;
}

/**
 * What fires schedules: EventBridge Scheduler on AWS (a schedule group per tenant), timers in the
 * local platform. Firing calls {@link fireSchedule} with the schedule's tenant, id and fire time.
 */
export interface ScheduleTrigger {
  /** Creates the trigger of a schedule (a disabled one is created disabled, or not at all). */
  register(tenantId: string, schedule: Schedule): Promise<void>;
  /** Removes a schedule's trigger; removing one that is gone is not an error. */
  unregister(tenantId: string, scheduleId: string): Promise<void>;
  /** Removes every trigger of a tenant (offboarding). */
  deleteAllForTenant(tenantId: string): Promise<void>;
}

/** What schedule use cases need. */
export interface ScheduleDeps {
  readonly schedules: ScheduleStore;
  readonly definitions: DefinitionStore;
  readonly trigger: ScheduleTrigger;
  readonly executions: StartDeps;
  /** The tenant's roles, to check at each firing that the creator may still start runs. */
  readonly roles: Pick<RoleStore, 'getRoles'>;
}

/** What a caller sends to create a schedule (validated here, not only by the route). */
export interface ScheduleInput {
  readonly cron: string;
  readonly timeZone?: string | undefined;
  readonly input?: Record<string, unknown> | undefined;
  readonly environment?: Environment | undefined;
  readonly enabled?: boolean | undefined;
  readonly description?: string | undefined;
}

/** The problems of a schedule's fields, each naming its field. */
export function scheduleProblems(input: ScheduleInput): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  try {
    parseCron(input.cron);
  } catch (error) {
    if (!(error instanceof CronError)) throw error;
    problems.push({ path: 'cron', message: error.message });
  }
  const timeZone = input.timeZone ?? 'UTC';
  if (!isIanaTimeZone(timeZone))
    problems.push({ path: 'timeZone', message: `"${timeZone.slice(0, 64)}" is not an IANA time zone` });
  const bytes = Buffer.byteLength(canonicalJson(input.input ?? {}), 'utf8');
  if (bytes > MAX_SCHEDULE_INPUT_BYTES)
    problems.push({ path: 'input', message: `at most ${MAX_SCHEDULE_INPUT_BYTES} bytes as JSON (${bytes})` });
  return problems;
}

/**
 * Creates a schedule for a workflow of the caller's tenant. Its runs are requested for its
 * creator, so making one needs `executions:start` as well as the route's `workflows:write`. The
 * record is written first, then the trigger; when the trigger cannot be created the record goes.
 */
export async function createSchedule(
  deps: Pick<ScheduleDeps, 'schedules' | 'definitions' | 'trigger'>,
  caller: Caller,
  workflowId: string,
  input: ScheduleInput,
): Promise<Schedule> {
  const tenantId = caller.principal.tenantId;
  if (!caller.principal.permissions.has('executions:start')) {
    throw new ForbiddenError('Creating a schedule also needs the permission executions:start.');
  }
  const problems = scheduleProblems(input);
  if (problems.length > 0) throw new ValidationError('The schedule is not valid.', problems);
  const head = await deps.definitions.getHead(tenantId, 'workflow', workflowId);
  if (!head) throw new NotFoundError(`No workflow ${workflowId}.`);
  // Checked now against the version promoted to its environment, if any, rather than refused at every
  // firing; each firing checks again, since a later promotion may change the schema.
  const promoted = head.environments?.[input.environment ?? 'prod'];
  if (promoted !== undefined) {
    const version = await deps.definitions.getVersion<WorkflowDefinition>(
      tenantId,
      'workflow',
      workflowId,
      promoted,
    );
    const inputProblemsFound = await inputProblems(
      version?.definition.inputSchema as Record<string, unknown> | undefined,
      input.input ?? {},
    );
    if (inputProblemsFound.length > 0)
      throw new ValidationError(
        `The input does not match the inputSchema of version ${promoted}, promoted to ${input.environment ?? 'prod'}.`,
        inputProblemsFound,
      );
  }
  const schedule: Schedule = {
    scheduleId: newId('s'),
    workflowId,
    cron: parseCron(input.cron).source,
    timeZone: input.timeZone ?? 'UTC',
    input: input.input ?? {},
    environment: input.environment ?? 'prod',
    enabled: input.enabled ?? true,
    ...(input.description ? { description: input.description } : {}),
    createdAt: caller.meta.now,
    createdBy: actingUser(caller),
  };
  // The input is a run's input: the audit trail records the schedule, not what its runs carry.
  const recorded = withoutInput(schedule);
  const audit = (action: string) =>
    audited(caller, {
      action,
      resourceType: 'schedule',
      resourceId: schedule.scheduleId,
      ...(action === 'schedule.create' ? { after: recorded } : { before: recorded }),
    });
  await deps.schedules.create(tenantId, schedule, audit('schedule.create'));
  try {
    await deps.trigger.register(tenantId, schedule);
  } catch (error) {
    await deps.schedules.delete(tenantId, schedule, audit('schedule.delete')).catch(() => undefined);
    throw new TransientError(
      `The schedule could not be registered with the scheduler, so it was not created; retry. (${
        error instanceof Error ? error.name : 'error'
      })`,
    );
  }
  return schedule;
}

function withoutInput(schedule: Schedule): Omit<Schedule, 'input'> {
  const { input: _input, ...rest } = schedule;
  return rest;
}

/** A workflow's schedules; another tenant's workflow is not found. */
export async function listSchedules(
  deps: Pick<ScheduleDeps, 'schedules' | 'definitions'>,
  tenantId: string,
  workflowId: string,
  page: PageRequest,
): Promise<Page<Schedule>> {
  if (!(await deps.definitions.getHead(tenantId, 'workflow', workflowId)))
    throw new NotFoundError(`No workflow ${workflowId}.`);
  return deps.schedules.listForWorkflow(tenantId, workflowId, page);
}

/**
 * Deletes a schedule of the caller's tenant (another tenant's id is simply not found). The record
 * goes first: a firing that races the trigger's removal finds no schedule and starts nothing.
 */
export async function deleteSchedule(
  deps: Pick<ScheduleDeps, 'schedules' | 'trigger'>,
  caller: Caller,
  scheduleId: string,
): Promise<void> {
  const tenantId = caller.principal.tenantId;
  const schedule = isScheduleId(scheduleId) ? await deps.schedules.get(tenantId, scheduleId) : undefined;
  if (!schedule) throw new NotFoundError(`No schedule ${scheduleId}.`);
  await deps.schedules.delete(
    tenantId,
    schedule,
    audited(caller, {
      action: 'schedule.delete',
      resourceType: 'schedule',
      resourceId: scheduleId,
      before: withoutInput(schedule),
    }),
  );
  await deps.trigger.unregister(tenantId, scheduleId);
}

/** True when `id` is shaped like a schedule id. */
export function isScheduleId(id: string): boolean {
  return ID_PATTERN.test(id) && id.startsWith('s');
}

/** Why a firing started nothing. */
export type FireRefusal =
  | 'bad-request'
  | 'no-schedule'
  | 'disabled'
  | 'tenant-not-active'
  | 'creator-inactive'
  | 'creator-not-sso'
  | 'stale'
  | 'refused-by-start';

/** The outcome of a firing: a run (new, or the one an earlier delivery of it started), or why not. */
export type FireOutcome =
  | { readonly fired: true; readonly result: StartResult }
  | { readonly fired: false; readonly reason: FireRefusal; readonly detail?: string };

/** The idempotency key of one firing: the same schedule and fire time always name the same run. */
export function fireKey(scheduleId: string, fireTime: Date): string {
  return `schedule:${scheduleId}:${fireTime.toISOString()}`;
}

/**
 * One firing of a schedule at `fireTime` (the scheduler's planned time, not the delivery time). It
 * starts nothing for a deleted or disabled schedule or a tenant that is not active, and a delivery
 * that repeats a fire time (schedulers deliver at least once) returns the run the first one started.
 * The run is started by the schedule as its own principal, requested for its creator (who therefore
 * cannot approve it), and audited as `execution.start` by that principal. Refusals that a retry
 * cannot change are outcomes; only transient failures throw, so the scheduler retries just those.
 */
export async function fireSchedule(
  deps: Pick<ScheduleDeps, 'schedules' | 'executions' | 'roles'>,
  tenantId: string,
  scheduleId: string,
  fireTime: Date,
  meta: RequestMeta,
): Promise<FireOutcome> {
  if (!ID_PATTERN.test(tenantId) || !tenantId.startsWith('t') || !isScheduleId(scheduleId))
    return { fired: false, reason: 'bad-request' };
  const nowMs = Date.parse(meta.now);
  if (Number.isNaN(fireTime.getTime())) return { fired: false, reason: 'bad-request' };
  const ageSeconds = (nowMs - fireTime.getTime()) / 1000;
  if (ageSeconds > MAX_FIRE_AGE_SECONDS || ageSeconds < -MAX_FIRE_AHEAD_SECONDS)
    return { fired: false, reason: 'stale', detail: `fire time ${fireTime.toISOString()}` };
  const [tenant, schedule] = await Promise.all([
    deps.executions.tenancy.getTenant(tenantId),
    deps.schedules.get(tenantId, scheduleId),
  ]);
  if (!schedule) return { fired: false, reason: 'no-schedule' };
  if (tenant?.status !== 'active') return { fired: false, reason: 'tenant-not-active' };
  if (!schedule.enabled) return { fired: false, reason: 'disabled' };
  // The schedule acts for its creator, so, like their API keys, only while they may still start
  // runs: not once they are disabled, erased, gone, or no longer hold executions:start.
  const creator = await deps.executions.tenancy.getUser(tenantId, schedule.createdBy);
  const creatorMay =
    creator?.status === 'active' &&
    (await resolvePermissions(deps.roles, tenantId, creator.roles)).has('executions:start');
  if (!creatorMay) return { fired: false, reason: 'creator-inactive' };
  // Nor once the tenant requires single sign-on and the creator is not an SSO user: they could no
  // longer sign in, and their keys no longer work.
  if (!ssoAllows(tenant, creator)) return { fired: false, reason: 'creator-not-sso' };
  const principal: TenantPrincipal = {
    kind: 'tenant',
    tenantId,
    principalId: scheduleId,
    principalType: 'schedule',
    roles: [],
    permissions: new Set(['executions:start']),
    onBehalfOf: schedule.createdBy,
  };
  try {
    const result = await startExecution(
      deps.executions,
      { principal, meta },
      schedule.workflowId,
      { input: schedule.input, environment: schedule.environment },
      fireKey(scheduleId, fireTime),
    );
    return { fired: true, result };
  } catch (error) {
    // Quota, budget, no promoted version, input the workflow refuses, a suspended tenant: a retry
    // of this firing would meet the same answer.
    if (error instanceof DomainError && !(error instanceof TransientError))
      return { fired: false, reason: 'refused-by-start', detail: `${error.code}: ${error.message}` };
    throw error;
  }
}
