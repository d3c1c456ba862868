import {
  ConflictException,
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleGroupCommand,
  ResourceNotFoundException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { parseCron, toEventBridgeCron } from '#core/schedules/cron.ts';
import type { Schedule, ScheduleTrigger } from '#core/schedules/schedules.ts';
import { TENANT_TAG } from '#shared/resource-names.ts';

/** Settings the stack gives the scheduler adapter. */
export interface EventBridgeSchedulerSettings {
  /** Prefix of every schedule group (`meridian-<stage>`), which IAM scopes the permissions by. */
  readonly groupPrefix: string;
  /** The function each firing invokes (functions/handlers/schedule-fire.ts). */
  readonly targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke it (PassRole is scoped to it). */
  readonly roleArn: string;
}

/**
 * The payload a firing delivers to the fire function. `<aws.scheduler.scheduled-time>` is the planned
 * time (not the delivery time), so retries of one firing carry the same time and idempotency holds.
 */
export function fireInput(tenantId: string, scheduleId: string): string {
  return JSON.stringify({ tenantId, scheduleId, scheduledTime: '<aws.scheduler.scheduled-time>' });
}

/** A firing older than this is dropped by the scheduler (the fire function refuses older ones too). */
const MAX_EVENT_AGE_SECONDS = 3600;
const MAX_RETRIES = 10;

/**
 * EventBridge Scheduler as the {@link ScheduleTrigger}: one schedule per Meridian schedule, named by
 * its id, in a schedule group per tenant (`<prefix>-<tenantId>`), so offboarding a tenant deletes
 * one group and IAM can fence the groups by name.
 */
export class EventBridgeScheduler implements ScheduleTrigger {
  constructor(
    private readonly client: SchedulerClient,
    private readonly settings: EventBridgeSchedulerSettings,
  ) {}

  /** The tenant's schedule group: at most 64 characters (ids are 17). */
  groupName(tenantId: string): string {
    return `${this.settings.groupPrefix}-${tenantId}`;
  }

  async register(tenantId: string, schedule: Schedule): Promise<void> {
    const command = new CreateScheduleCommand({
      Name: schedule.scheduleId,
      GroupName: this.groupName(tenantId),
      ScheduleExpression: toEventBridgeCron(parseCron(schedule.cron)),
      ScheduleExpressionTimezone: schedule.timeZone,
      State: schedule.enabled ? 'ENABLED' : 'DISABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Description: `Meridian schedule of workflow ${schedule.workflowId}`.slice(0, 512),
      Target: {
        Arn: this.settings.targetArn,
        RoleArn: this.settings.roleArn,
        Input: fireInput(tenantId, schedule.scheduleId),
        RetryPolicy: { MaximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS, MaximumRetryAttempts: MAX_RETRIES },
      },
    });
    await this.ensureGroup(tenantId);
    await this.client.send(command);
  }

  /** True when the tenant's group exists (asked first: see docs/emulators.md for moto's answers otherwise). */
  private async groupExists(tenantId: string): Promise<boolean> {
    try {
      await this.client.send(new GetScheduleGroupCommand({ Name: this.groupName(tenantId) }));
      return true;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    }
  }

  /** The tenant's group, made on its first schedule. */
  private async ensureGroup(tenantId: string): Promise<void> {
    if (await this.groupExists(tenantId)) return;
    try {
      await this.client.send(
        new CreateScheduleGroupCommand({
          Name: this.groupName(tenantId),
          Tags: [{ Key: TENANT_TAG, Value: tenantId }],
        }),
      );
    } catch (error) {
      // A concurrent first schedule made it.
      if (!(error instanceof ConflictException)) throw error;
    }
  }

  async unregister(tenantId: string, scheduleId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteScheduleCommand({ Name: scheduleId, GroupName: this.groupName(tenantId) }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  async deleteAllForTenant(tenantId: string): Promise<void> {
    if (!(await this.groupExists(tenantId))) return;
    try {
      // Deleting a group deletes its schedules (asynchronously, on AWS).
      await this.client.send(new DeleteScheduleGroupCommand({ Name: this.groupName(tenantId) }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}
