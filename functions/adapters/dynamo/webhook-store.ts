import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type { Webhook, WebhookStore } from '#core/webhooks/webhooks.ts';
import { keys } from './keys.ts';
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

  async delete(tenantId: string, hook: Webhook, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.delete(keys.webhook(tenantId, hook.hookId), 'attribute_exists(pk)')],
      () => new NotFoundError('No such webhook.'),
    );
  }
}
