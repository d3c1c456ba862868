import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError } from '#core/errors.ts';
import type { Budget, BudgetStore } from '#core/executions/budget.ts';
import * as keys from './item-keys.ts';
import type { Table } from './table.ts';
import { strip, type TableBase } from './table-base.ts';

/**
 * The budget reads and the alert claim ({@link BudgetStore} without putBudget): what a step's charge
 * checks (functions/core/executions/budget.ts checkBudgetAlerts), on {@link TableBase} alone.
 */
export class DynamoBudgetReads implements Omit<BudgetStore, 'putBudget'> {
  constructor(protected readonly table: TableBase) {}

  async getBudget(tenantId: string): Promise<Budget | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.budget(tenantId));
    return item ? strip<Budget>(item) : undefined;
  }

  async monthSpend(tenantId: string, month: string): Promise<number> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.usage(tenantId, month));
    return Number(item?.costMicros ?? 0);
  }

  async claimAlert(tenantId: string, month: string, threshold: number, at: string): Promise<boolean> {
    const db = await this.table.clients.forTenant(tenantId);
    try {
      await db.send(
        new PutCommand({
          TableName: this.table.name,
          Item: {
            ...keys.budgetAlert(tenantId, month, threshold),
            type: 'budgetAlert',
            month,
            threshold,
            at,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async alerts(tenantId: string, month: string): Promise<number[]> {
    const items = await this.table.queryAll(tenantId, keys.budget(tenantId).pk, `BUDGETALERT#${month}#`);
    return items.map((i) => Number(i.threshold));
  }
}

/** DynamoDB implementation of {@link BudgetStore}: the reads, and the audited budget change. */
export class DynamoBudgetStore extends DynamoBudgetReads implements BudgetStore {
  declare protected readonly table: Table;

  constructor(table: Table) {
    super(table);
  }

  async putBudget(
    tenantId: string,
    next: Budget,
    previous: Budget | undefined,
    audit: AuditContext,
  ): Promise<void> {
    const item = { ...keys.budget(tenantId), type: 'budget', ...next };
    await this.table.commit(
      audit,
      [
        previous
          ? this.table.put(item, '#u = :u', { '#u': 'updatedAt' }, { ':u': previous.updatedAt })
          : this.table.put(item, 'attribute_not_exists(pk)'),
      ],
      () => new ConflictError('The budget was changed by someone else meanwhile; read it again and retry.'),
    );
  }
}
