import type { ScheduleDeps } from '#core/schedules/schedules.ts';
import { config, core, runCaps } from '#shared/config.ts';
import { DynamoExecutionStarts } from '../dynamo/execution-starts.ts';
import { DynamoRoleStore } from '../dynamo/role-store.ts';
import { DynamoScheduleStore } from '../dynamo/schedule-store.ts';
import { DynamoTenantStore } from '../dynamo/tenant-store.ts';
import { DynamoUserStore } from '../dynamo/user-store.ts';
import { tableOnly } from './base.ts';
import { startsOf } from './executions.ts';
import { executionEngine } from './step-functions.ts';

/** What a firing needs: the schedule, the execution use cases and the owner's roles. */
export type ScheduleFireWiring = Pick<ScheduleDeps, 'schedules' | 'executions' | 'roles'>;

/** The schedule fire function's settings. */
export const SCHEDULE_FIRE_SETTINGS = [core, runCaps] as const;

let wired: ScheduleFireWiring | undefined;

/**
 * The schedule fire function's composition root: it starts executions of tenants' schedules. Starting
 * reads or writes no artifact (only the step runner offloads, only the API reads back), raises no
 * notification and touches no approval, so none of those is wired, and the compiler checks that
 * (functions/core/executions/deps.ts `StartDeps`).
 */
export function scheduleFireWiring(): ScheduleFireWiring {
  if (wired) return wired;
  const cfg = config(SCHEDULE_FIRE_SETTINGS);
  const { clients, table } = tableOnly(cfg);
  const tenants = new DynamoTenantStore(table);
  const users = new DynamoUserStore(table);
  // A firing only starts executions: the start's dependencies (StartDeps) are all it wires.
  const executions = startsOf(cfg, {
    table,
    clients,
    executions: new DynamoExecutionStarts(table),
    tenancy: {
      getTenant: (tenantId) => tenants.getTenant(tenantId),
      getUser: (tenantId, userId) => users.getUser(tenantId, userId),
    },
    engine: executionEngine(cfg, clients),
  });
  wired = { schedules: new DynamoScheduleStore(table), executions, roles: new DynamoRoleStore(table) };
  return wired;
}
