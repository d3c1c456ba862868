import type { AuditContext } from '../audit/audit.ts';
import type { Page, PageRequest, Tenant, User } from '../tenancy/model.ts';
import type { Environment, Head } from '../versioning/model.ts';
import type { WorkflowDefinition } from '../workflows/model.ts';
import type { Budget } from './budget.ts';
import type {
  Execution,
  ExecutionError,
  ExecutionStatus,
  RedriveRecord,
  RunState,
  StepRecord,
} from './model.ts';
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

/** The items a start reads, named by what it knows before reading anything. */
export interface StartQuery {
  readonly workflowId: string;
  /** The id an `Idempotency-Key` derives: a replay finds its execution. */
  readonly executionId?: string;
  /** The starting user, whose teams the execution is counted under. */
  readonly userId?: string;
  readonly month: string;
}

/** What one batched read returns for a start. */
export interface StartReads {
  readonly head?: Head<WorkflowDefinition>;
  readonly prior?: Execution;
  readonly tenant?: Tenant;
  readonly budget?: Budget;
  readonly user?: User;
}

/** What a start asks of the month's counters, atomically. */
export interface Reservation {
  readonly reserveMicros: number;
  /** Highest commitment (spend plus open reservations) at which the start still fits a hard-stop budget. */
  readonly maxCommittedMicros?: number;
  /** The plan's monthly execution quota. */
  readonly quota?: number;
  /** False for a redrive: it reserves against the budget but is not another execution of the month. */
  readonly countsExecution?: boolean;
}

/** What a redrive writes on the execution. */
export interface RedriveChange {
  /** The `redriveCount` read before (0: never redriven); the write fails if another redrive won. */
  readonly previousCount: number;
  readonly redrivenAt: string;
  /** The execution's cost so far plus the redrive's own reservation (see budget.ts). */
  readonly reservedMicros: number;
  /** The execution's cost so far: where the redrive's run begins (see settlementOf in budget.ts). */
  readonly reserveBaseMicros: number;
  /** Kept when the request carried an `Idempotency-Key`, so its replays find this redrive. */
  readonly record?: RedriveRecord;
}

/** The month's counters when a reservation did not fit. */
export interface Refusal {
  readonly executions: number;
  readonly committedMicros: number;
}

/** Persistence of executions, their steps and the tenant's usage counters. */
export interface ExecutionStore {
  /** Everything a start checks, in one batched read (one round trip). */
  startReads(tenantId: string, query: StartQuery): Promise<StartReads>;
  /**
   * Counts a start in the month and reserves against the budget in one conditional atomic update of
   * the month's counters; returns the counters instead when the quota or the budget would be passed.
   */
  reserveStart(tenantId: string, month: string, reservation: Reservation): Promise<Refusal | undefined>;
  /** Gives back `micros` of the month's commitment and `executions` counted starts (a start that made nothing, or an execution's unspent reservation). */
  release(tenantId: string, month: string, micros: number, executions: number): Promise<void>;
  /**
   * Settles run `run` (its `redriveCount`, 0 before any redrive) once: marks its reservation settled
   * (so later charges give nothing back) and gives the month what settlementOf (budget.ts) finds
   * left of it, in one transaction. Returns the micros given back: 0 when it was already settled,
   * or the execution has been redriven since.
   */
  settleReservation(tenantId: string, executionId: string, month: string, run: number): Promise<number>;
  /**
   * Writes a new execution and its audit record unless one with its id exists; returns the stored one.
   * The workflow's, teams' and each of `agents`' (the agents its workflow version pins) counters are
   * added apart (atomic ADDs, no transaction on shared items).
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
  /**
   * Gives the execution's record and steps the table's TTL (`expiresAt`, epoch seconds): called once
   * it ended, after its usage was counted in the month's counters (which never expire). `undefined`
   * takes the TTL away again: a redriven execution runs on, and its end sets a new one.
   */
  expire?(tenantId: string, executionId: string, expiresAt: number | undefined): Promise<number>;
  /** Marks a step started and counts the attempt; returns the attempt number. */
  startStep(
    tenantId: string,
    executionId: string,
    step: Pick<StepRecord, 'stepId' | 'stepKey' | 'type' | 'startedAt' | 'ref'>,
  ): Promise<number>;
  /**
   * Records a finished step and settles its charge: the execution's cost, then the month's counters
   * by atomic ADDs (the commitment grows only by what passes the execution's reservation). Returns
   * the month's spend after the charge, when there was one.
   */
  finishStep(
    tenantId: string,
    executionId: string,
    step: StepRecord,
    charge: StepCharge | undefined,
  ): Promise<number | undefined>;
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
  /** The redrive an `Idempotency-Key` made, if any. */
  getRedrive(tenantId: string, executionId: string, redriveId: string): Promise<RedriveRecord | undefined>;
  /**
   * Moves a FAILED or TIMED_OUT execution back to RUNNING with one more redrive, clearing its end,
   * error and output, with its audit record (and the redrive's record) in one transaction; false
   * when it was no longer redrivable or another redrive won.
   */
  redrive(
    tenantId: string,
    executionId: string,
    change: RedriveChange,
    audit: AuditContext,
  ): Promise<boolean>;
  /**
   * Puts back what `redrive` changed when the engine refused it (only while the execution is still
   * RUNNING under that redrive), and forgets the redrive's record.
   */
  abandonRedrive(tenantId: string, executionId: string, prior: Execution, redriveId?: string): Promise<void>;
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
  stop(input: {
    readonly tenantId: string;
    readonly engineArn: string;
    readonly error: string;
    readonly cause: string;
  }): Promise<void>;
  /**
   * Resumes a FAILED or TIMED_OUT execution from the state that did not finish; the steps that
   * succeeded are not run again. Idempotent per `redriveCount`. Throws `ConflictError` when the
   * engine cannot redrive it.
   */
  redrive(input: {
    readonly tenantId: string;
    readonly executionId: string;
    readonly engineArn: string;
    /** The execution's redrive count after this redrive (1 for the first). */
    readonly redriveCount: number;
  }): Promise<void>;
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
  /** Marks every artifact under `prefix` to expire after `days` (S3 lifecycle rule by tag). */
  expire?(tenantId: string, prefix: string, days: number): Promise<number>;
}
