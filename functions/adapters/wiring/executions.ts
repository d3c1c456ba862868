import type { ApprovalStore } from '#core/approvals/ports.ts';
import type { ExecutionDeps, StartDeps, StartStore } from '#core/executions/deps.ts';
import type { ExecutionEngine, ExecutionStore } from '#core/executions/ports.ts';
import type { Notify } from '#core/notifications/model.ts';
import type { TenancyStore } from '#core/tenancy/ports.ts';
import type { DefinitionStore } from '#core/versioning/ports.ts';
import type { Settings } from '#shared/config.ts';
import { DynamoApprovalStore } from '../dynamo/approval-store.ts';
import { DynamoBudgetStore } from '../dynamo/budget-store.ts';
import { DynamoDefinitionStore } from '../dynamo/definition-store.ts';
import { DynamoRunSlotStore } from '../dynamo/run-slot-store.ts';
import type { Table, TenantClients } from '../dynamo/table.ts';

/** What a composition root gives the start of an execution (functions/core/executions/start.ts). */
export interface StartParts<S extends StartStore = StartStore> {
  readonly table: Table;
  readonly clients: TenantClients;
  /** The whole store (functions/adapters/dynamo/execution-store.ts), or the start's part (schedule fire). */
  readonly executions: S;
  readonly tenancy: Pick<TenancyStore, 'getTenant' | 'getUser'>;
  readonly engine: ExecutionEngine;
  /** Shared with the root's other use cases; built here when absent. */
  readonly definitions?: DefinitionStore;
}

/** What a composition root gives the execution use cases. */
export interface ExecutionParts extends StartParts<ExecutionStore> {
  readonly artifacts: ExecutionDeps['artifacts'];
  readonly notify: Notify;
  readonly approvals?: ApprovalStore;
}

/** What the execution use cases read: the table (run slots) and the running-execution caps. */
export type ExecutionSettings = Settings<'TABLE_NAME' | 'MAX_RUNNING_EXECUTIONS'>;

/** What a start needs, and only that: the root of a function that only starts executions wires this. */
export function startsOf<S extends StartStore>(
  cfg: ExecutionSettings,
  parts: StartParts<S>,
): Omit<StartDeps, 'executions'> & { readonly executions: S } {
  return {
    executions: parts.executions,
    definitions: parts.definitions ?? new DynamoDefinitionStore(parts.table),
    tenancy: parts.tenancy,
    engine: parts.engine,
    slots: new DynamoRunSlotStore(cfg.TABLE_NAME, parts.clients),
    concurrencyCaps: cfg.MAX_RUNNING_EXECUTIONS,
    now: () => new Date(),
  };
}

/** Everything the execution use cases need, in one object. */
export function executionsOf(cfg: ExecutionSettings, parts: ExecutionParts): ExecutionDeps {
  return {
    ...startsOf(cfg, parts),
    approvals: parts.approvals ?? new DynamoApprovalStore(parts.table),
    artifacts: parts.artifacts,
    budgets: new DynamoBudgetStore(parts.table),
    notify: parts.notify,
  };
}
