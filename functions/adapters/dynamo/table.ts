import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type AuditContext, buildRecord } from '#core/audit/audit.ts';
import { ConflictError, TransientError, ValidationError } from '#core/errors.ts';
import type { Page, PageRequest } from '#core/tenancy/model.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import * as keys from './item-keys.ts';
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

/** Maps the index of a failed condition in a transaction to the domain error to raise. */
export type ConflictMapper = (index: number) => Error | undefined;

/**
 * A transaction only conflicts with another on the items they both write (the audit record is an
 * item of its own), so a few quick retries are enough before the request is answered 503.
 */
const MAX_ATTEMPTS = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The single table's low-level operations shared by every store: audited transactions that append
 * to the tenant's hash chain, and paged queries with tenant-bound cursors.
 */
export class Table {
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
   * Writes `items` and their audit record in one transaction. The record is an item of its own under
   * a time-ordered unique id (see keys.auditRecord), so no write of a tenant reads or updates an item
   * that all of its writes share.
   */
  async commit(
    audit: AuditContext,
    items: readonly TransactItem[],
    onConflict: ConflictMapper,
  ): Promise<void> {
    const db = await this.clients.forTenant(audit.tenantId);
    const record = buildRecord(audit);
    const write = this.put(
      { ...keys.auditRecord(audit.tenantId, record.id), type: 'audit', ...record },
      'attribute_not_exists(pk)',
    );
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        await db.send(new TransactWriteCommand({ TransactItems: [...items, write] }));
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const failed = reasons.findIndex((r, i) => i < items.length && r.Code === 'ConditionalCheckFailed');
        if (failed >= 0)
          throw onConflict(failed) ?? new ConflictError('The resource changed meanwhile; retry.');
        if (!reasons.some((r) => r.Code === 'TransactionConflict')) throw error;
        await sleep(Math.random() * Math.min(100, 10 * 2 ** attempt));
      }
    }
    throw new TransientError('Too many concurrent changes to the same items; retry shortly.');
  }

  /** A page of one item kind in a tenant partition (sk prefix), newest-first or in key order. */
  async page<T>(
    tenantId: string,
    list: string,
    input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
    page: PageRequest,
    map: (item: Record<string, unknown>) => T,
  ): Promise<Page<T>> {
    const db = tenantId === 'platform' ? this.clients.platform : await this.clients.forTenant(tenantId);
    const out = await db
      .send(
        new QueryCommand({
          ...input,
          TableName: this.name,
          Limit: page.limit,
          ExclusiveStartKey: decodeCursor(page.cursor, tenantId, list),
        }),
      )
      .catch((error: unknown) => {
        // A forged cursor that passed the tenant check but names no key of this query (another
        // partition of the tenant, wrong attributes or types): the caller's mistake, not ours.
        if (page.cursor !== undefined && error instanceof Error && error.name === 'ValidationException') {
          throw new ValidationError('The cursor is not valid here: it names no position in this list.', [
            { path: 'query.cursor', message: 'cursor belongs to another list or tenant' },
          ]);
        }
        throw error;
      });
    const nextCursor = encodeCursor(tenantId, list, out.LastEvaluatedKey);
    return { items: (out.Items ?? []).map(map), ...(nextCursor ? { nextCursor } : {}) };
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
