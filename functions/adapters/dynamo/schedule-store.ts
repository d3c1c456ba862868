import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import {
  MAX_SCHEDULES_PER_TENANT,
  MAX_SCHEDULES_PER_WORKFLOW,
  type Schedule,
  type ScheduleStore,
} from '#core/schedules/schedules.ts';
import type { Page, PageRequest } from '#core/tenancy/model.ts';
import * as keys from './item-keys.ts';
import { type Key, tenantPk } from './keys.ts';
import { strip, type Table, type TransactItem } from './table.ts';

/** DynamoDB implementation of {@link ScheduleStore}; the caps are counters in the same transaction. */
export class DynamoScheduleStore implements ScheduleStore {
  constructor(private readonly table: Table) {}

  /** Adds `delta` to a counter; when growing, only below `max` (so concurrent creates cannot overrun it). */
  private count(key: Key, delta: number, max: number): TransactItem {
    return {
      Update: {
        TableName: this.table.name,
        Key: key,
        UpdateExpression: 'ADD #n :delta SET #type = :type',
        ...(delta > 0 ? { ConditionExpression: 'attribute_not_exists(#n) OR #n < :max' } : {}),
        ExpressionAttributeNames: { '#n': 'n', '#type': 'type' },
        ExpressionAttributeValues: {
          ':delta': delta,
          ':type': 'scheduleCount',
          ...(delta > 0 ? { ':max': max } : {}),
        },
      },
    };
  }

  async create(tenantId: string, schedule: Schedule, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.put(
          { ...keys.schedule(tenantId, schedule.scheduleId), type: 'schedule', ...schedule },
          'attribute_not_exists(pk)',
        ),
        this.count(keys.scheduleCount(tenantId), 1, MAX_SCHEDULES_PER_TENANT),
        this.count(keys.scheduleCount(tenantId, schedule.workflowId), 1, MAX_SCHEDULES_PER_WORKFLOW),
      ],
      (index) =>
        index === 0
          ? new ConflictError('This schedule already exists.')
          : new ConflictError(
              index === 1
                ? `A tenant can have at most ${MAX_SCHEDULES_PER_TENANT} schedules; delete one first.`
                : `A workflow can have at most ${MAX_SCHEDULES_PER_WORKFLOW} schedules; delete one first.`,
              [{ path: 'workflowId', message: 'schedule limit reached' }],
            ),
    );
  }

  async get(tenantId: string, scheduleId: string): Promise<Schedule | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.schedule(tenantId, scheduleId));
    return item ? strip<Schedule>(item) : undefined;
  }

  listForWorkflow(tenantId: string, workflowId: string, page: PageRequest): Promise<Page<Schedule>> {
    // A tenant has at most MAX_SCHEDULES_PER_TENANT schedules: the filter over its SCHEDULE# items
    // costs little, and a short page still carries the cursor to the rest.
    return this.table.page(
      tenantId,
      `schedules:${workflowId}`,
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'workflowId = :workflowId',
        ExpressionAttributeValues: {
          ':pk': tenantPk(tenantId),
          ':prefix': 'SCHEDULE#',
          ':workflowId': workflowId,
        },
      },
      page,
      (item) => strip<Schedule>(item),
    );
  }

  async delete(tenantId: string, schedule: Schedule, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.delete(keys.schedule(tenantId, schedule.scheduleId), 'attribute_exists(pk)'),
        this.count(keys.scheduleCount(tenantId), -1, 0),
        this.count(keys.scheduleCount(tenantId, schedule.workflowId), -1, 0),
      ],
      () => new NotFoundError('No such schedule.'),
    );
  }
}
