import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/audit.ts';
import {
  ConflictError,
  NotFoundError,
  QuotaExceededError,
  TenantSuspendedError,
  ValidationError,
} from '../errors.ts';
import { acquireRunSlot } from '../governance/bulkhead.ts';
import { derivedId, newId } from '../ids.ts';
import { audited, type Caller } from '../tenancy/context.ts';
import type { Plan, Tenant } from '../tenancy/model.ts';
import type { Environment, Head } from '../versioning/model.ts';
import type { WorkflowDefinition } from '../workflows/model.ts';
import { assertWithinBudget } from './budget.ts';
import { inputProblems } from './input-schema.ts';
import { type Execution, monthOf, type RunState } from './model.ts';
import type { ExecutionDeps } from './service.ts';

// Starting lives apart from the other execution use cases: only the API needs it, and it brings
// the JSON Schema validator, which the status and approval functions should not carry.

/** How many of a version's agents an execution's start counts in usage (see the call). */
const MAX_COUNTED_AGENTS = 50;

/** Monthly execution quota per plan (null: unlimited). */
export const PLAN_EXECUTION_QUOTA: Readonly<Record<Plan, number | null>> = Object.freeze({
  free: 100,
  pro: 100_000,
  enterprise: null,
});

function requestHash(workflowId: string, environment: string, input: unknown): string {
  return createHash('sha256').update(canonicalJson({ workflowId, environment, input })).digest('hex');
}

/** Result of a start: the execution and whether this request created it. */
export interface StartResult {
  readonly execution: Execution;
  readonly created: boolean;
}

/**
 * Starts a workflow in an environment. The record is written first, named from the tenant and the
 * `Idempotency-Key`, so a replay with the same key and body returns the same execution and one with
 * another body is 409; concurrent replays race on one conditional write and make one execution.
 */
export async function startExecution(
  deps: ExecutionDeps,
  caller: Caller,
  workflowId: string,
  body: { input: Record<string, unknown>; environment?: Environment | undefined },
  idempotencyKey: string | undefined,
): Promise<StartResult> {
  const tenantId = caller.principal.tenantId;
  const environment = body.environment ?? 'dev';
  // Every way in (token, key, webhook) ends here, and only the API's router checks the tenant's
  // status first: so the start itself refuses a tenant that is not active, replays included.
  const [tenant, head] = await Promise.all([
    deps.tenancy.getTenant(tenantId),
    deps.definitions.getHead<WorkflowDefinition>(tenantId, 'workflow', workflowId),
  ]);
  if (tenant?.status !== 'active') {
    throw new TenantSuspendedError('This tenant is not active; contact your platform operator.');
  }
  if (!head) throw new NotFoundError(`No workflow ${workflowId}.`);
  const hash = requestHash(workflowId, environment, body.input);
  const executionId = idempotencyKey
    ? derivedId('x', `${tenantId}|${workflowId}|${idempotencyKey}`)
    : newId('x');

  const prior = idempotencyKey ? await deps.executions.get(tenantId, executionId) : undefined;
  if (prior) return replay(deps, tenantId, prior, hash, head);

  const versionNumber = head.environments?.[environment];
  if (versionNumber === undefined) {
    throw new ConflictError(
      `Workflow ${workflowId} has no version promoted to ${environment}; promote one first.`,
      [{ path: 'environment', message: `no version promoted to ${environment}` }],
    );
  }
  const version = await deps.definitions.getVersion<WorkflowDefinition>(
    tenantId,
    'workflow',
    workflowId,
    versionNumber,
  );
  if (!version?.asl)
    throw new NotFoundError(`Version ${versionNumber} of workflow ${workflowId} is missing.`);
  const problems = inputProblems(
    version.definition.inputSchema as Record<string, unknown> | undefined,
    body.input,
  );
  if (problems.length > 0)
    throw new ValidationError('The input does not match the workflow’s inputSchema.', problems);
  await checkLimits(deps, tenant, monthOf(caller.meta.now));
  if (deps.slots) {
    await acquireRunSlot(
      deps.slots,
      tenantId,
      tenant.plan,
      executionId,
      caller.meta.now,
      deps.concurrencyCaps,
    );
  }

  const teams =
    caller.principal.principalType === 'user'
      ? ((await deps.tenancy.getUser(tenantId, caller.principal.principalId))?.teams ?? [])
      : [];
  const execution: Execution = {
    executionId,
    workflowId,
    workflowVersion: versionNumber,
    environment,
    status: 'RUNNING',
    input: body.input,
    usage: { inputTokens: 0, outputTokens: 0 },
    costMicros: 0,
    startedAt: caller.meta.now,
    startedBy: caller.principal.principalId,
    ...(caller.principal.onBehalfOf ? { startedFor: caller.principal.onBehalfOf } : {}),
    teams: [...teams],
    requestHash: hash,
  };
  const stored = await createReleasingSlot(deps, tenantId, executionId, () =>
    deps.executions.create(
      tenantId,
      execution,
      monthOf(caller.meta.now),
      audited(caller, {
        action: 'execution.start',
        resourceType: 'execution',
        resourceId: executionId,
        after: { workflowId, workflowVersion: versionNumber, environment },
      }),
      // By agent, an execution counts once for each agent its version pins (the tokens and cost come
      // from the steps that ran).
      // The cap keeps the start within one DynamoDB transaction (100 items, teams included).
      Object.keys(version.pins?.agents ?? {}).slice(0, MAX_COUNTED_AGENTS),
    ),
  );
  if (!stored.created) return replay(deps, tenantId, stored.execution, hash, head);
  try {
    await launch(deps, tenantId, head, stored.execution, version.asl);
  } catch (error) {
    // Not running, so it holds no run slot (a replay with the same key claims one again).
    await deps.slots?.release(tenantId, executionId);
    throw error;
  }
  return { execution: (await deps.executions.get(tenantId, executionId)) ?? stored.execution, created: true };
}

/** Runs `write`; if it fails, the run slot claimed for the execution is given back. */
async function createReleasingSlot<T>(
  deps: ExecutionDeps,
  tenantId: string,
  executionId: string,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    await deps.slots?.release(tenantId, executionId);
    throw error;
  }
}

async function replay(
  deps: ExecutionDeps,
  tenantId: string,
  prior: Execution,
  hash: string,
  head: Head<WorkflowDefinition>,
): Promise<StartResult> {
  if (prior.requestHash !== hash) {
    throw new ConflictError('This Idempotency-Key was used with a different request body.', [
      { path: 'Idempotency-Key', message: 'already used with another body' },
    ]);
  }
  // The record landed but the engine never took it (a crash in between): the replay starts it.
  if (!prior.engineArn && prior.status === 'RUNNING') {
    const version = await deps.definitions.getVersion<WorkflowDefinition>(
      tenantId,
      'workflow',
      prior.workflowId,
      prior.workflowVersion,
    );
    if (version?.asl) await launch(deps, tenantId, head, prior, version.asl);
    return { execution: (await deps.executions.get(tenantId, prior.executionId)) ?? prior, created: false };
  }
  return { execution: prior, created: false };
}

async function launch(
  deps: ExecutionDeps,
  tenantId: string,
  head: Head<WorkflowDefinition>,
  execution: Execution,
  asl: string,
): Promise<void> {
  if (!head.stateMachineArn) throw new ConflictError(`Workflow ${head.id} has no state machine yet.`);
  const state: RunState = {
    input: execution.input,
    steps: {},
    context: {
      tenantId,
      executionId: execution.executionId,
      workflowId: execution.workflowId,
      workflowVersion: execution.workflowVersion,
      environment: execution.environment,
      startedBy: execution.startedBy,
      ...(execution.startedFor ? { startedFor: execution.startedFor } : {}),
      startedAt: execution.startedAt,
      teams: execution.teams,
    },
  };
  const { engineArn } = await deps.engine.start({
    tenantId,
    executionId: execution.executionId,
    stateMachineArn: head.stateMachineArn,
    environment: execution.environment,
    version: execution.workflowVersion,
    asl,
    state,
  });
  await deps.executions.setEngineArn(tenantId, execution.executionId, engineArn);
}

/** The budget (402) and the plan's quota (429) are checked before anything is written. */
async function checkLimits(deps: ExecutionDeps, tenant: Tenant, month: string): Promise<void> {
  const [budget, total] = await Promise.all([
    deps.budgets.getBudget(tenant.tenantId),
    deps.executions.monthTotal(tenant.tenantId, month),
  ]);
  assertWithinBudget(budget, total.costMicros);
  const quota = PLAN_EXECUTION_QUOTA[tenant.plan];
  if (quota === null || quota === undefined) return;
  if (total.executions >= quota) {
    const next = new Date(`${month}-01T00:00:00Z`);
    next.setUTCMonth(next.getUTCMonth() + 1);
    throw new QuotaExceededError(
      `The ${tenant.plan} plan allows ${quota} executions a month; this month's are used up.`,
      Math.max(1, Math.ceil((next.getTime() - deps.now().getTime()) / 1000)),
    );
  }
}
