import type { ApprovalStore } from '#core/approvals/ports.ts';
import type { ExecutionDeps, StartStore } from '#core/executions/deps.ts';
import type { ExecutionEngine, ExecutionStore } from '#core/executions/ports.ts';
import type { Notify } from '#core/notifications/model.ts';
import type { TenancyStore } from '#core/tenancy/ports.ts';
import type { DefinitionStore } from '#core/versioning/ports.ts';
import type { RuntimeConfig } from '#shared/config.ts';
import { DynamoApprovalStore } from '../dynamo/approval-store.ts';
import { DynamoBudgetStore } from '../dynamo/budget-store.ts';
import { DynamoDefinitionStore } from '../dynamo/definition-store.ts';
import { DynamoRunSlotStore } from '../dynamo/run-slot-store.ts';
import type { Table, TenantClients } from '../dynamo/table.ts';

/** What a composition root gives the execution use cases. */
export interface ExecutionParts<S extends StartStore = ExecutionStore> {
  readonly table: Table;
  readonly clients: TenantClients;
  /** The whole store (functions/adapters/dynamo/execution-store.ts), or the start's part (schedule fire). */
  readonly executions: S;
  readonly tenancy: Pick<TenancyStore, 'getTenant' | 'getUser'>;
  readonly engine: ExecutionEngine;
  readonly artifacts: ExecutionDeps['artifacts'];
  readonly notify: Notify;
  /** Shared with the root's other use cases; built here when absent. */
  readonly definitions?: DefinitionStore;
  readonly approvals?: ApprovalStore;
}

/** Everything the execution use cases need, in one object. */
export function executionsOf<S extends StartStore = ExecutionStore>(
  cfg: RuntimeConfig,
  parts: ExecutionParts<S>,
): Omit<ExecutionDeps, 'executions'> & { readonly executions: S } {
  return {
    executions: parts.executions,
    definitions: parts.definitions ?? new DynamoDefinitionStore(parts.table),
    approvals: parts.approvals ?? new DynamoApprovalStore(parts.table),
    tenancy: parts.tenancy,
    engine: parts.engine,
    artifacts: parts.artifacts,
    budgets: new DynamoBudgetStore(parts.table),
    slots: new DynamoRunSlotStore(cfg.TABLE_NAME, parts.clients),
    concurrencyCaps: cfg.MAX_RUNNING_EXECUTIONS,
    notify: parts.notify,
    now: () => new Date(),
  };
}
