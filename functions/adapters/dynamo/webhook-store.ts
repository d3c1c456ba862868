import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type { Page, PageRequest } from '#core/tenancy/model.ts';
import type { Webhook, WebhookStore } from '#core/webhooks/webhooks.ts';
import * as keys from './item-keys.ts';
import { tenantPk } from './keys.ts';
import { strip, type Table } from './table.ts';

/** DynamoDB implementation of {@link WebhookStore}. */
export class DynamoWebhookStore implements WebhookStore {
  constructor(private readonly table: Table) {}

  async create(tenantId: string, hook: Webhook, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.put(
          { ...keys.webhook(tenantId, hook.hookId), type: 'webhook', ...hook },
          'attribute_not_exists(pk)',
        ),
      ],
      () => new ConflictError('This webhook already exists.'),
    );
  }

  async get(tenantId: string, hookId: string): Promise<Webhook | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.webhook(tenantId, hookId));
    return item ? strip<Webhook>(item) : undefined;
  }

  listForWorkflow(tenantId: string, workflowId: string, page: PageRequest): Promise<Page<Webhook>> {
    // A tenant has few webhooks: the filter over its WEBHOOK# items costs little, and a short page
    // still carries the cursor to the rest.
    return this.table.page(
      tenantId,
      `webhooks:${workflowId}`,
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'workflowId = :workflowId',
        ExpressionAttributeValues: {
          ':pk': tenantPk(tenantId),
          ':prefix': 'WEBHOOK#',
          ':workflowId': workflowId,
        },
      },
      page,
      (item) => strip<Webhook>(item),
    );
  }

  async delete(tenantId: string, hook: Webhook, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.delete(keys.webhook(tenantId, hook.hookId), 'attribute_exists(pk)')],
      () => new NotFoundError('No such webhook.'),
    );
  }
}
