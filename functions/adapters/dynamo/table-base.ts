import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { INDEX, type Key } from './keys.ts';

/** One write of a transaction. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Supplies a DynamoDB client whose credentials reach only the given tenant's partitions. */
export interface TenantClients {
  /** The function's own client (platform-level reads such as the tenants index and logins). */
  readonly platform: DynamoDBDocumentClient;
  /** A client fenced to one tenant (STS session tag + LeadingKeys on AWS; the same client locally). */
  forTenant(tenantId: string): Promise<DynamoDBDocumentClient>;
}

/**
 * The single table's reads and write builders, without the audited transactions and paged queries
 * of {@link Table} (functions/adapters/dynamo/table.ts): a function that writes no audited change
 * and pages no list (the step runner) wires this alone and bundles neither.
 */
export class TableBase {
  constructor(
    readonly name: string,
    readonly clients: TenantClients,
  ) {}

  /** Consistent point read inside a tenant's partitions. */
  async get<T>(tenantId: string, key: Key): Promise<T | undefined> {
    const db = await this.clients.forTenant(tenantId);
    const out = await db.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true }));
    return out.Item as T | undefined;
  }

  /** Puts an item with the table name filled in. */
  put(
    item: Record<string, unknown>,
    condition?: string,
    names?: Record<string, string>,
    values?: Record<string, unknown>,
  ): TransactItem {
    return {
      Put: {
        TableName: this.name,
        Item: item,
        ...(condition ? { ConditionExpression: condition } : {}),
        ...(names ? { ExpressionAttributeNames: names } : {}),
        ...(values ? { ExpressionAttributeValues: values } : {}),
      },
    };
  }

  /** Deletes an item, optionally only when a condition holds. */
  delete(key: Key, condition?: string): TransactItem {
    return {
      Delete: { TableName: this.name, Key: key, ...(condition ? { ConditionExpression: condition } : {}) },
    };
  }

  /**
   * Every item of one partition whose sort key starts with `prefix`, all pages (for bounded sets:
   * one execution's steps, one month's usage counters, one tenant's audit records).
   */
  async queryAll(
    tenantId: string,
    pk: string,
    prefix: string,
    consistent = false,
  ): Promise<Record<string, unknown>[]> {
    const db = await this.clients.forTenant(tenantId);
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: this.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': pk, ':p': prefix },
          ConsistentRead: consistent,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Query on GSI1 with the function's own client (platform-level lookups only). */
  async queryIndex(gsi1pk: string, limit = 1): Promise<Record<string, unknown>[]> {
    const out = await this.clients.platform.send(
      new QueryCommand({
        TableName: this.name,
        IndexName: INDEX.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': INDEX.partitionKey },
        ExpressionAttributeValues: { ':pk': gsi1pk },
        Limit: limit,
      }),
    );
    return out.Items ?? [];
  }
}

/** Strips key and bookkeeping attributes from an item. */
export function strip<T>(item: Record<string, unknown>): T {
  // `expiresAt` is kept: API keys carry their expiry under that name (as an ISO string, which the
  // table's TTL ignores). Items that carry it as a numeric TTL (ended executions, audit records,
  // counters) drop it in their own mapping.
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, type: _type, ...rest } = item;
  return rest as T;
}
