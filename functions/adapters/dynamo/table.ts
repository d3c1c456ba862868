import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type AuditContext, GENESIS_HASH, nextRecord } from '#core/audit/audit.ts';
import { ConflictError, TransientError, ValidationError } from '#core/errors.ts';
import type { Page, PageRequest } from '#core/tenancy/model.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { INDEX, type Key, keys } from './keys.ts';

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
 * A tenant's audit chain is appended one record at a time, so concurrent mutations in one tenant
 * take turns on its head: retried with capped exponential backoff and full jitter (~2 s in all)
 * before the request is answered 503 with Retry-After.
 */
const MAX_CHAIN_ATTEMPTS = 20;

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
   * Writes `items` and the next audit record in one transaction. The chain head is read, the record
   * built on it, and the head advanced under a condition, so concurrent mutations in one tenant
   * serialise on the head (retried with jitter) and the chain never forks.
   */
  async commit(
    audit: AuditContext,
    items: readonly TransactItem[],
    onConflict: ConflictMapper,
  ): Promise<void> {
    const db = await this.clients.forTenant(audit.tenantId);
    const headKey = keys.auditHead(audit.tenantId);
    for (let attempt = 0; attempt < MAX_CHAIN_ATTEMPTS; attempt++) {
      const current = await db.send(
        new GetCommand({ TableName: this.name, Key: headKey, ConsistentRead: true }),
      );
      const head = current.Item
        ? { seq: Number(current.Item.seq), hash: String(current.Item.hash) }
        : { seq: 0, hash: GENESIS_HASH };
      const record = nextRecord(audit, head);
      const chain: TransactItem[] = [
        this.put(
          { ...keys.auditRecord(audit.tenantId, record.seq), type: 'audit', ...record },
          'attribute_not_exists(pk)',
        ),
        head.seq === 0
          ? this.put(
              { ...headKey, type: 'auditHead', seq: record.seq, hash: record.hash },
              'attribute_not_exists(pk)',
            )
          : this.put(
              { ...headKey, type: 'auditHead', seq: record.seq, hash: record.hash },
              '#seq = :seq',
              { '#seq': 'seq' },
              { ':seq': head.seq },
            ),
      ];
      try {
        await db.send(new TransactWriteCommand({ TransactItems: [...items, ...chain] }));
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const failed = reasons.findIndex((r, i) => i < items.length && r.Code === 'ConditionalCheckFailed');
        if (failed >= 0)
          throw onConflict(failed) ?? new ConflictError('The resource changed meanwhile; retry.');
        const retryable = reasons.some(
          (r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict',
        );
        if (!retryable) throw error;
        await sleep(Math.random() * Math.min(250, 4 * 2 ** attempt));
      }
    }
    throw new TransientError('Too many concurrent changes in this tenant; retry shortly.');
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
   * one execution's steps, one month's usage counters, one tenant's audit chain).
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
  // table's TTL ignores), and no item uses it as a numeric TTL yet.
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, type: _type, ...rest } = item;
  return rest as T;
}
