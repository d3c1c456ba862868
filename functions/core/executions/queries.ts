import { NotFoundError } from '../errors.ts';
import type { Page, PageRequest } from '../tenancy/model.ts';
import type { Environment } from '../versioning/model.ts';
import { markedArtifact, readArtifact } from './artifacts.ts';
import type { ExecutionDeps } from './deps.ts';
import { type Execution, type ExecutionStatus, type StepRecord, usdOf } from './model.ts';
import type { ExecutionFilter } from './ports.ts';

/** The API's view of an execution: money as a decimal string, large outputs resolved. */
export interface ExecutionView {
  readonly executionId: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly environment: Environment;
  readonly status: ExecutionStatus;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: { error: string; cause: string };
  readonly usage: { inputTokens: number; outputTokens: number };
  readonly costUsd: string;
  readonly costMicros: number;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly startedBy: string;
  readonly steps?: readonly StepView[];
}

/** A step as the API shows it. */
export type StepView = Omit<StepRecord, 'costMicros' | 'outputRef'> & { costUsd?: string };

/**
 * The content of a step's output for the API: from the artifact store when the platform's own record
 * says it stored it there (`outputRef`), never from a reference found in the output itself.
 */
async function stepOutput(deps: ExecutionDeps, tenantId: string, step: StepRecord): Promise<unknown> {
  return step.outputRef ? readArtifact(deps.artifacts, tenantId, step.outputRef) : step.output;
}

/**
 * An execution's output is a step's output or the map of its steps' outputs: a marker at either level
 * resolves only through this execution's own step records.
 */
async function executionOutput(
  deps: ExecutionDeps,
  tenantId: string,
  output: unknown,
  steps: readonly StepRecord[],
): Promise<unknown> {
  const resolve = async (value: unknown): Promise<unknown> => {
    const ref = markedArtifact(value, steps);
    return ref ? readArtifact(deps.artifacts, tenantId, ref) : value;
  };
  if (output === null || typeof output !== 'object' || Array.isArray(output)) return output;
  if (markedArtifact(output, steps)) return resolve(output);
  const entries = await Promise.all(
    Object.entries(output).map(async ([key, value]) => [key, await resolve(value)] as const),
  );
  return Object.fromEntries(entries);
}

function view(execution: Execution): ExecutionView {
  const {
    requestHash: _h,
    engineArn: _a,
    teams: _t,
    pendingApprovalId: _p,
    reservedMicros: _r,
    reserveBaseMicros: _b,
    givenBackMicros: _g,
    reservationSettled: _s,
    retentionDays: _d,
    ...rest
  } = execution as Execution & { expiresAt?: unknown };
  delete (rest as { expiresAt?: unknown }).expiresAt;
  // `redriveCount` and `redrivenAt` stay: the API shows how often and when it was redriven.
  return { ...rest, costUsd: usdOf(execution.costMicros) };
}

/** One execution with its steps, outputs, tokens, cost and timings. */
export async function getExecution(
  deps: ExecutionDeps,
  tenantId: string,
  executionId: string,
): Promise<ExecutionView> {
  const execution = await deps.executions.get(tenantId, executionId);
  if (!execution) throw new NotFoundError(`No execution ${executionId}.`);
  const steps = await deps.executions.steps(tenantId, executionId);
  const stepViews: StepView[] = await Promise.all(
    steps.map(async (s) => {
      const { costMicros, outputRef: _r, ...rest } = s;
      return {
        ...rest,
        ...(s.output !== undefined ? { output: await stepOutput(deps, tenantId, s) } : {}),
        ...(costMicros !== undefined ? { costUsd: usdOf(costMicros) } : {}),
      };
    }),
  );
  return {
    ...view(execution),
    ...(execution.output !== undefined
      ? { output: await executionOutput(deps, tenantId, execution.output, steps) }
      : {}),
    steps: stepViews,
  };
}

/** Executions, newest first, filtered by workflow, status and start time. */
export async function listExecutions(
  deps: ExecutionDeps,
  tenantId: string,
  filter: ExecutionFilter,
  page: PageRequest,
): Promise<Page<ExecutionView>> {
  const out = await deps.executions.list(tenantId, filter, page);
  return { ...out, items: out.items.map(view) };
}
