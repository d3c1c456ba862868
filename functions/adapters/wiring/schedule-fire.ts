import type { ScheduleDeps } from '#core/schedules/schedules.ts';
import { config } from '#shared/config.ts';
import { FUNCTION_SETTINGS } from '#shared/settings.ts';
import { DynamoExecutionStarts } from '../dynamo/execution-starts.ts';
import { DynamoRoleStore } from '../dynamo/role-store.ts';
import { DynamoScheduleStore } from '../dynamo/schedule-store.ts';
import { DynamoTenantStore } from '../dynamo/tenant-store.ts';
import { DynamoUserStore } from '../dynamo/user-store.ts';
import { notInThisFunction, tableOnly } from './base.ts';
import { executionsOf } from './executions.ts';
import { executionEngine } from './step-functions.ts';

/** What a firing needs: the schedule, the execution use cases and the owner's roles. */
export type ScheduleFireWiring = Pick<ScheduleDeps, 'schedules' | 'executions' | 'roles'>;

let wired: ScheduleFireWiring | undefined;

/**
 * The schedule fire function's composition root: it starts executions of tenants' schedules. Starting
 * reads or writes no artifact (only the step runner offloads, only the API reads back) and raises no
 * notification, so neither is wired: a call would fail naming the missing port.
 */
export function scheduleFireWiring(): ScheduleFireWiring {
  if (wired) return wired;
  const cfg = config(FUNCTION_SETTINGS.scheduleFire);
  const { clients, table } = tableOnly(cfg);
  const tenants = new DynamoTenantStore(table);
  const users = new DynamoUserStore(table);
  const executions = executionsOf(cfg, {
    table,
    clients,
    // A firing only starts executions: the start's part of the store (StartDeps) is all it wires.
    executions: new DynamoExecutionStarts(table),
    tenancy: {
      getTenant: (tenantId) => tenants.getTenant(tenantId),
      getUser: (tenantId, userId) => users.getUser(tenantId, userId),
    },
    engine: executionEngine(cfg),
    artifacts: notInThisFunction('artifact store'),
    notify: () => notInThisFunction<{ notify(): Promise<void> }>('notifier').notify(),
  });
  wired = { schedules: new DynamoScheduleStore(table), executions, roles: new DynamoRoleStore(table) };
  return wired;
}
