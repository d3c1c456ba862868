import type { ApprovalStore } from '../approvals/ports.ts';
import type { RunSlots } from '../governance/bulkhead.ts';
import type { Notify } from '../notifications/model.ts';
import type { Plan } from '../tenancy/model.ts';
import type { TenancyStore } from '../tenancy/ports.ts';
import type { DefinitionStore } from '../versioning/ports.ts';
import type { BudgetStore } from './budget.ts';
import type { ArtifactStore, ExecutionEngine, ExecutionStore } from './ports.ts';

/** What execution use cases need. */
export interface ExecutionDeps {
  readonly executions: ExecutionStore;
  readonly definitions: DefinitionStore;
  readonly approvals: ApprovalStore;
  readonly tenancy: Pick<TenancyStore, 'getTenant' | 'getUser'>;
  readonly engine: ExecutionEngine;
  readonly artifacts: ArtifactStore;
  readonly budgets: BudgetStore;
  /** The concurrency bulkhead's run slots; without it, running executions are not capped. */
  readonly slots?: RunSlots;
  /** Running executions allowed per plan; without it, the defaults of the bulkhead module. */
  readonly concurrencyCaps?: Readonly<Record<Plan, number>>;
  /** Raises notification events (approval pending, execution failed or timed out); never throws. */
  readonly notify?: Notify;
  readonly now: () => Date;
}

/** What starting an execution reads and writes of the store (functions/core/executions/start.ts). */
export type StartStore = Pick<
  ExecutionStore,
  'startReads' | 'reserveStart' | 'release' | 'create' | 'get' | 'setEngineArn'
>;

/**
 * What a start needs: the definitions, the engine, the bulkhead, and only the start's part of the store
 * (no approvals, artifacts, budgets store or notifier), so a function that only starts executions
 * (schedule fire) is wired, and type-checked, with those.
 */
export type StartDeps = Pick<
  ExecutionDeps,
  'definitions' | 'tenancy' | 'engine' | 'slots' | 'concurrencyCaps' | 'now'
> & { readonly executions: StartStore };
