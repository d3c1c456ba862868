import type { Environment } from '../versioning/model.ts';
import type { ArtifactRef } from './artifacts.ts';
import type { Usage } from './model-port.ts';

/** Execution statuses, as the contract names them. */
export const EXECUTION_STATUSES = [
  'RUNNING',
  'WAITING_APPROVAL',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
  'TIMED_OUT',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** Statuses after which nothing can change an execution again. */
export const FINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set([
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
  'TIMED_OUT',
]);

/** An error as the API shows it. */
export interface ExecutionError {
  readonly error: string;
  readonly cause: string;
}

/**
 * What every state of a running workflow carries besides the user's input and the step outputs:
 * who and what it runs for. Written only by the start use case (callers cannot set it).
 */
export interface RunContext {
  readonly tenantId: string;
  readonly executionId: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly environment: Environment;
  readonly startedBy: string;
  /** When started through an API key: the user who created the key. */
  readonly startedFor?: string;
  readonly startedAt: string;
  readonly teams: readonly string[];
}

/** The data a workflow's states pass along: `{input, steps, context}` (plus `item` inside maps). */
export interface RunState {
  readonly input: unknown;
  readonly steps: Record<string, unknown>;
  readonly context: RunContext;
  readonly item?: unknown;
}

/** One execution. Money is kept in integer USD micros; the API also shows it as a decimal string. */
export interface Execution {
  readonly executionId: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly environment: Environment;
  readonly status: ExecutionStatus;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: ExecutionError;
  readonly usage: Usage;
  readonly costMicros: number;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly startedBy: string;
  readonly startedFor?: string;
  readonly teams: readonly string[];
  /** sha256 of (workflow, environment, input): a replay with another body under the same key is 409. */
  readonly requestHash: string;
  /** Set once the engine accepted the start. */
  readonly engineArn?: string;
  /**
   * The cost up to which the current run is covered by its reservation, in micros: what the start
   * reserved against a hard-stop budget, or after a redrive the cost so far plus the redrive's
   * reservation (internal: never shown).
   */
  readonly reservedMicros?: number;
  /** The execution's cost when its current run began: 0, or what earlier runs spent (internal). */
  readonly reserveBaseMicros?: number;
  /**
   * What the current run's steps gave back of its reservation as they were charged, so its end
   * gives back exactly the rest (functions/core/executions/budget.ts). Absent on executions started
   * before it was kept (internal).
   */
  readonly givenBackMicros?: number;
  /** Set once the current run's reservation was settled: later charges give nothing back (internal). */
  readonly reservationSettled?: boolean;
  /** The step approval the execution waits for (internal: never shown). */
  readonly pendingApprovalId?: string | null;
  /** How many times it was redriven (absent: never). */
  readonly redriveCount?: number;
  /** When it was last redriven. */
  readonly redrivenAt?: string;
  /** The tenant's retention when it started: it expires this many days after it ends (internal). */
  readonly retentionDays?: number;
}

/** One accepted redrive, kept under the id its `Idempotency-Key` derives (internal: never shown). */
export interface RedriveRecord {
  readonly redriveId: string;
  /** The execution's `redriveCount` this redrive made. */
  readonly redriveCount: number;
  readonly redrivenAt: string;
  readonly redrivenBy: string;
}

/** One step's record: one per step id (per item inside a map). */
export interface StepRecord {
  readonly stepId: string;
  /** `stepId`, or `stepId[index]` inside a map. */
  readonly stepKey: string;
  readonly type: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'WAITING_APPROVAL' | 'CANCELLED';
  readonly attempts: number;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly output?: unknown;
  readonly error?: ExecutionError;
  readonly usage?: Usage;
  readonly costMicros?: number;
  readonly durationMs?: number;
  /** The pinned definition the step ran. */
  readonly ref?: { readonly id: string; readonly version: number };
  /** Set by the step runner alone when the output was too large to keep inline (see artifacts.ts). */
  readonly outputRef?: ArtifactRef;
}

/** USD micros as a decimal string (`1234567` → `"1.234567"`), exact. */
export function usdOf(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(Math.round(micros));
  return `${sign}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}

/** `YYYY-MM` of an ISO time. */
export const monthOf = (iso: string): string => iso.slice(0, 7);
