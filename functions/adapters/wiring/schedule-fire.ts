import type { ScheduleDeps } from '#core/schedules/schedules.ts';
import { config } from '#shared/config.ts';
import { FUNCTION_SETTINGS } from '#shared/settings.ts';
import { DynamoScheduleStore } from '../dynamo/schedule-store.ts';
import { notInThisFunction, tableOnly } from './base.ts';
import { NO_AWS_TRANSPORT } from './notifications.ts';
import { notifyingExecutions } from './notifying-executions.ts';
import { executionEngine } from './step-functions.ts';

/** What a firing needs: the schedule, the execution use cases and the owner's roles. */
export type ScheduleFireWiring = Pick<ScheduleDeps, 'schedules' | 'executions' | 'roles'>;

let wired: ScheduleFireWiring | undefined;

/** The schedule fire function's composition root: it starts executions of tenants' schedules. */
export function scheduleFireWiring(): ScheduleFireWiring {
  if (wired) return wired;
  const cfg = config(FUNCTION_SETTINGS.scheduleFire);
  const { clients, table } = tableOnly(cfg);
  // Starting a run raises no notification; on AWS this function has no queue to raise one on.
  const { store, executions } = notifyingExecutions(cfg, {
    table,
    clients,
    engine: executionEngine(cfg),
    // Starting reads or writes no artifact: only the step runner offloads, only the API reads back.
    artifacts: notInThisFunction('artifact store'),
    awsTransport: NO_AWS_TRANSPORT,
  });
  wired = { schedules: new DynamoScheduleStore(table), executions, roles: store };
  return wired;
}
