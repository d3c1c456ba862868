import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, type QueryCommandInput, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { type AuditContext, buildRecord } from '#core/audit/audit.ts';
import { ConflictError, TransientError, ValidationError } from '#core/errors.ts';
import type { Page, PageRequest } from '#core/tenancy/model.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import * as keys from './item-keys.ts';
import { TableBase, type TransactItem } from './table-base.ts';

export { strip, type TenantClients, type TransactItem } from './table-base.ts';

/** Maps the index of a failed condition in a transaction to the domain error to raise. */
export type ConflictMapper = (index: number) => Error | undefined;

/**
 * A transaction only conflicts with another on the items they both write (the audit record is an
 * item of its own), so a few quick retries are enough before the request is answered 503.
 */
const MAX_ATTEMPTS = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The single table's low-level operations shared by every store: {@link TableBase}'s reads and write
 * builders, audited transactions that append to the tenant's hash chain, and paged queries with
 * tenant-bound cursors.
 */
export class Table extends TableBase {
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
}
