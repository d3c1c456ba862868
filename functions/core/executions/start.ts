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
import { budgetExceeded, maxCommitmentFor, reservationOf } from './budget.ts';
import type { StartDeps } from './deps.ts';
import { inputProblems } from './input-schema.ts';
import { type Execution, monthOf, type RunState } from './model.ts';

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
 *
 * DynamoDB round trips before the write: one batched read (head, prior execution, tenant, budget,
 * user), the promoted version, and the reservation: one conditional atomic update of the month's
 * counters that counts the start against the plan's quota (429) and reserves an estimate against a
 * hard-stop budget (402), so concurrent starts can never overrun either.
 */
export async function startExecution(
  deps: StartDeps,
  caller: Caller,
  workflowId: string,
  body: { input: Record<string, unknown>; environment?: Environment | undefined },
  idempotencyKey: string | undefined,
): Promise<StartResult> {
  const tenantId = caller.principal.tenantId;
  const environment = body.environment ?? 'dev';
  const month = monthOf(caller.meta.now);
  const hash = requestHash(workflowId, environment, body.input);
  const executionId = idempotencyKey
    ? derivedId('x', `${tenantId}|${workflowId}|${idempotencyKey}`)
    : newId('x');
  const reads = await deps.executions.startReads(tenantId, {
    workflowId,
    month,
    ...(idempotencyKey ? { executionId } : {}),
    ...(caller.principal.principalType === 'user' ? { userId: caller.principal.principalId } : {}),
  });
  const { head, prior } = reads;
  // Every way in (token, key, webhook) ends here, and only the API's router checks the tenant's
  // status first: so the start itself refuses a tenant that is not active, replays included.
  if (reads.tenant?.status !== 'active') {
    throw new TenantSuspendedError('This tenant is not active; contact your platform operator.');
  }
  if (!head) throw new NotFoundError(`No workflow ${workflowId}.`);
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
  const problems = await inputProblems(
    version.definition.inputSchema as Record<string, unknown> | undefined,
    body.input,
  );
  if (problems.length > 0)
    throw new ValidationError('The input does not match the workflow’s inputSchema.', problems);
  const reservedMicros = await reserve(deps, tenantId, month, reads.tenant, reads.budget);
  if (deps.slots && reads.tenant) {
    try {
      await acquireRunSlot(
        deps.slots,
        tenantId,
        reads.tenant.plan,
        executionId,
        caller.meta.now,
        deps.concurrencyCaps,
      );
    } catch (error) {
      // Refused by the bulkhead: the reservation and the count go back.
      await deps.executions.release(tenantId, month, reservedMicros, 1).catch(() => undefined);
      throw error;
    }
  }

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
    teams: [...(reads.user?.teams ?? [])],
    requestHash: hash,
    reservedMicros,
    ...(reads.tenant?.executionRetentionDays ? { retentionDays: reads.tenant.executionRetentionDays } : {}),
  };
  let stored: Awaited<ReturnType<StartDeps['executions']['create']>>;
  try {
    stored = await deps.executions.create(
      tenantId,
      execution,
      month,
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
    );
  } catch (error) {
    // Nothing was started: the reservation, the count and the run slot go back.
    await deps.executions.release(tenantId, month, reservedMicros, 1).catch(() => undefined);
    await deps.slots?.release(tenantId, executionId);
    throw error;
  }
  if (!stored.created) {
    // A concurrent start with the same key won: it holds the same run slot (claims are per
    // execution id), so only the reservation goes back.
    await deps.executions.release(tenantId, month, reservedMicros, 1);
    return replay(deps, tenantId, stored.execution, hash, head);
  }
  try {
    await launch(deps, tenantId, head, stored.execution, version.asl);
  } catch (error) {
    // Not running, so it holds no run slot (a replay with the same key claims one again).
    await deps.slots?.release(tenantId, executionId);
    throw error;
  }
  return { execution: (await deps.executions.get(tenantId, executionId)) ?? stored.execution, created: true };
}

async function replay(
  deps: StartDeps,
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
  deps: StartDeps,
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

/**
 * Counts the start in the month and reserves against a hard-stop budget in one conditional update;
 * refuses it with 402 (budget) or 429 (the plan's quota) when it does not fit. Returns the reservation.
 */
async function reserve(
  deps: StartDeps,
  tenantId: string,
  month: string,
  tenant: Tenant | undefined,
  budget: Parameters<typeof reservationOf>[0],
): Promise<number> {
  const reserveMicros = reservationOf(budget);
  const maxCommittedMicros = maxCommitmentFor(budget);
  const quota = tenant ? PLAN_EXECUTION_QUOTA[tenant.plan] : null;
  if (budget && maxCommittedMicros !== undefined && maxCommittedMicros < 0) throw budgetExceeded(budget, 0);
  const refused = await deps.executions.reserveStart(tenantId, month, {
    reserveMicros,
    ...(maxCommittedMicros !== undefined ? { maxCommittedMicros } : {}),
    ...(quota !== null && quota !== undefined ? { quota } : {}),
  });
  if (!refused) return reserveMicros;
  if (budget && maxCommittedMicros !== undefined && refused.committedMicros > maxCommittedMicros)
    throw budgetExceeded(budget, refused.committedMicros);
  const next = new Date(`${month}-01T00:00:00Z`);
  next.setUTCMonth(next.getUTCMonth() + 1);
  throw new QuotaExceededError(
    `The ${tenant?.plan} plan allows ${quota} executions a month; this month's are used up.`,
    Math.max(1, Math.ceil((next.getTime() - deps.now().getTime()) / 1000)),
  );
}
