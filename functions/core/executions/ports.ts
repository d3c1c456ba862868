import type { AuditContext } from '../audit/audit.ts';
import type { Page, PageRequest } from '../tenancy/model.ts';
import type { Environment } from '../versioning/model.ts';
import type { Execution, ExecutionError, ExecutionStatus, RunState, StepRecord } from './model.ts';
import type { Usage } from './model-port.ts';

/** Filters of `GET /executions`. */
export interface ExecutionFilter {
  readonly workflowId?: string;
  readonly status?: ExecutionStatus;
  readonly from?: string;
  readonly to?: string;
}

/** Month-to-date counters of one dimension (the tenant, a workflow, an agent or a team). */
export interface UsageCounters {
  readonly executions: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costMicros: number;
}

/** What a finished step adds to the counters. */
export interface StepCharge {
  readonly usage: Usage;
  readonly costMicros: number;
  readonly workflowId: string;
  readonly agentId?: string;
  readonly teams: readonly string[];
  /** `YYYY-MM` of the execution's start, so a month boundary never splits one execution. */
  readonly month: string;
}

/** Persistence of executions, their steps and the tenant's usage counters. */
export interface ExecutionStore {
  /** Writes a new execution (and counts it in the month) unless one with its id exists; returns the stored one. */
  /**
   * Stores a new execution and counts it in the month's usage: in total, for its workflow, its
   * teams and each of `agents` (the agents its workflow version pins).
   */
  create(
    tenantId: string,
    execution: Execution,
    month: string,
    audit: AuditContext,
    agents?: readonly string[],
  ): Promise<{ created: boolean; execution: Execution }>;
  get(tenantId: string, executionId: string): Promise<Execution | undefined>;
  steps(tenantId: string, executionId: string): Promise<StepRecord[]>;
  list(tenantId: string, filter: ExecutionFilter, page: PageRequest): Promise<Page<Execution>>;
  setEngineArn(tenantId: string, executionId: string, engineArn: string): Promise<void>;
  /** Marks a step started and counts the attempt; returns the attempt number. */
  startStep(
    tenantId: string,
    executionId: string,
    step: Pick<StepRecord, 'stepId' | 'stepKey' | 'type' | 'startedAt' | 'ref'>,
  ): Promise<number>;
  /** Records a finished step and adds its charge to the execution and the month, in one transaction. */
  finishStep(
    tenantId: string,
    executionId: string,
    step: StepRecord,
    charge: StepCharge | undefined,
  ): Promise<void>;
  /**
   * Moves an execution to `status` only from one of `from`; returns false when it was elsewhere
   * (e.g. already finished), so late events and decisions change nothing.
   */
  transition(
    tenantId: string,
    executionId: string,
    from: readonly ExecutionStatus[],
    status: ExecutionStatus,
    fields: { output?: unknown; error?: ExecutionError; endedAt?: string; pendingApprovalId?: string | null },
    audit?: AuditContext,
  ): Promise<boolean>;
  /** The tenant's month-to-date totals (one read): what quotas and budgets are checked against. */
  monthTotal(tenantId: string, month: string): Promise<UsageCounters>;
  usage(
    tenantId: string,
    month: string,
  ): Promise<{ total: UsageCounters; byDimension: { kind: string; id: string; counters: UsageCounters }[] }>;
}

/** The engine running executions (Step Functions, or aws-local-stepfunctions locally). */
export interface ExecutionEngine {
  start(input: {
    readonly tenantId: string;
    readonly executionId: string;
    readonly stateMachineArn: string;
    readonly environment: Environment;
    readonly version: number;
    /** The version's compiled ASL (the local engine runs it; Step Functions already has it). */
    readonly asl: string;
    readonly state: RunState;
  }): Promise<{ engineArn: string }>;
  stop(input: { readonly engineArn: string; readonly error: string; readonly cause: string }): Promise<void>;
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
}

/**
 * Large payloads (step outputs over the inline limit) kept outside the table. Keys are relative to
 * the tenant's prefix (`tenants/<tenantId>/`), which the store adds: no key reaches another tenant.
 */
export interface ArtifactStore {
  /** Stores `body` and returns its URI (shown to the tenant, never read back as a reference). */
  put(tenantId: string, key: string, body: string): Promise<string>;
  get(tenantId: string, key: string): Promise<string>;
}
