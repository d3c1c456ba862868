import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError } from '#core/errors.ts';
import type { ApiKeyRecord, Page, PageRequest } from '#core/tenancy/model.ts';
import type { ApiKeyStore } from '#core/tenancy/ports.ts';
import * as keys from './item-keys.ts';
import { strip, type Table } from './table.ts';
import { changed, NEW, prefixQuery } from './tenancy-items.ts';

/** DynamoDB implementation of {@link ApiKeyStore}: one item per key, read by the authorizer. */
export class DynamoApiKeyStore implements ApiKeyStore {
  constructor(private readonly table: Table) {}

  async createApiKey(tenantId: string, key: ApiKeyRecord, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.put({ ...keys.apiKey(tenantId, key.keyId), type: 'apiKey', ...key }, NEW)],
      () => new ConflictError('This key id already exists.'),
    );
  }

  async getApiKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.apiKey(tenantId, keyId));
    return item ? strip<ApiKeyRecord>(item) : undefined;
  }

  listApiKeys(tenantId: string, page: PageRequest): Promise<Page<ApiKeyRecord>> {
    return this.table.page(tenantId, 'apikeys', prefixQuery(tenantId, keys.prefix.apiKey), page, (i) =>
      strip<ApiKeyRecord>(i),
    );
  }

  async updateApiKey(
    tenantId: string,
    next: ApiKeyRecord,
    previous: ApiKeyRecord,
    audit: AuditContext,
  ): Promise<void> {
    // lastUsedAt moves without audit, so the optimistic check uses the secret hash and status instead.
    await this.table.commit(
      audit,
      [
        this.table.put(
          { ...keys.apiKey(tenantId, next.keyId), type: 'apiKey', ...next },
          '#h = :h AND #s = :s',
          { '#h': 'secretHash', '#s': 'status' },
          { ':h': previous.secretHash, ':s': previous.status },
        ),
      ],
      changed,
    );
  }

  async touchApiKey(tenantId: string, keyId: string, at: string): Promise<void> {
    const db = await this.table.clients.forTenant(tenantId);
    await db.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.apiKey(tenantId, keyId),
        UpdateExpression: 'SET lastUsedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }
}
