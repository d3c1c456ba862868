import type { Approval, ApprovalStatus } from '#core/approvals/model.ts';
import type { ApprovalStore } from '#core/approvals/ports.ts';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError } from '#core/errors.ts';
import type { Page, PageRequest } from '#core/tenancy/model.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import * as keys from './item-keys.ts';
import { tenantPk } from './keys.ts';
import { strip, type Table } from './table.ts';

/** DynamoDB implementation of {@link ApprovalStore}; approvals are indexed by status on GSI1. */
export class DynamoApprovalStore implements ApprovalStore {
  constructor(private readonly table: Table) {}

  private item(tenantId: string, approval: Approval, taskToken?: string) {
    return {
      ...keys.approval(tenantId, approval.approvalId),
      ...keys.approvalByStatus(tenantId, approval.status, approval.createdAt, approval.approvalId),
      type: 'approval',
      ...approval,
      ...(taskToken ? { taskToken } : {}),
    };
  }

  async create(
    tenantId: string,
    approval: Approval,
    audit: AuditContext,
    secret?: { taskToken: string },
  ): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.put(this.item(tenantId, approval, secret?.taskToken), 'attribute_not_exists(pk)')],
      () => new ConflictError('This approval already exists.'),
    );
  }

  async get(tenantId: string, approvalId: string): Promise<Approval | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.approval(tenantId, approvalId));
    if (!item) return undefined;
    const { taskToken: _t, ...rest } = strip<Approval & { taskToken?: string }>(item);
    return rest;
  }

  async taskToken(tenantId: string, approvalId: string): Promise<string | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.approval(tenantId, approvalId));
    return typeof item?.taskToken === 'string' ? item.taskToken : undefined;
  }

  listPending(tenantId: string, page: PageRequest): Promise<Page<Approval>> {
    return this.listByStatus(tenantId, 'pending', page);
  }

  listByStatus(tenantId: string, status: ApprovalStatus, page: PageRequest): Promise<Page<Approval>> {
    return this.table.page(
      tenantId,
      `approvals:${status}`,
      {
        IndexName: TABLE_SCHEMA.gsi1.indexName,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': `${tenantPk(tenantId)}#APPROVALS#${status.toUpperCase()}` },
        ScanIndexForward: false,
      },
      page,
      (i) => {
        const { taskToken: _t, ...rest } = strip<Approval & { taskToken?: string }>(i);
        return rest;
      },
    );
  }

  async decide(tenantId: string, next: Approval, audit: AuditContext): Promise<void> {
    // The put moves the index keys to the new status, and the condition makes a decision land once.
    const stored = await this.table.get<Record<string, unknown>>(
      tenantId,
      keys.approval(tenantId, next.approvalId),
    );
    const token = typeof stored?.taskToken === 'string' ? stored.taskToken : undefined;
    await this.table.commit(
      audit,
      [
        this.table.put(
          this.item(tenantId, next, token),
          '#s = :pending',
          { '#s': 'status' },
          { ':pending': 'pending' },
        ),
      ],
      () => new ConflictError('This approval is no longer pending.'),
    );
  }
}
