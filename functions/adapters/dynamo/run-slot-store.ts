import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { RunSlots } from '#core/governance/bulkhead.ts';
import * as keys from './item-keys.ts';
import type { TenantClients } from './table.ts';

/** Claims are kept at most this long, so a slot whose release was lost frees itself (TTL). */
const SLOT_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Run slots in the single table: `SLOT#<n>` items under the tenant's `#RUNNING` partition, each
 * naming the execution holding it. A claim reads the taken slots and puts a free one under
 * `attribute_not_exists`, so two containers never hold the same slot, and the count never passes
 * the cap; each write touches its own item, none that every start shares.
 */
export class DynamoRunSlotStore implements RunSlots {
  constructor(
    private readonly tableName: string,
    private readonly clients: TenantClients,
  ) {}

  private async taken(tenantId: string): Promise<{ sk: string; executionId: string }[]> {
    const db = await this.clients.forTenant(tenantId);
    const out = await db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.runSlot(tenantId, 0).pk },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map((i) => ({ sk: String(i.sk), executionId: String(i.executionId) }));
  }

  async claim(tenantId: string, executionId: string, cap: number, now: string): Promise<boolean> {
    const db = await this.clients.forTenant(tenantId);
    // A few rounds: a slot seen free may be claimed by another container before this write.
    for (let round = 0; round < 3; round++) {
      const taken = await this.taken(tenantId);
      if (taken.some((t) => t.executionId === executionId)) return true;
      const used = new Set(taken.map((t) => t.sk));
      const free = Array.from({ length: cap }, (_, i) => i).filter(
        (i) => !used.has(keys.runSlot(tenantId, i).sk),
      );
      if (free.length === 0) return false;
      // A random free slot, so concurrent claims rarely collide.
      const slot = free[Math.floor(Math.random() * free.length)] ?? 0;
      try {
        await db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...keys.runSlot(tenantId, slot),
              type: 'runSlot',
              executionId,
              claimedAt: now,
              expiresAt: Math.floor(Date.parse(now) / 1000) + SLOT_TTL_SECONDS,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return false;
  }

  async release(tenantId: string, executionId: string): Promise<void> {
    const db = await this.clients.forTenant(tenantId);
    for (const slot of (await this.taken(tenantId)).filter((t) => t.executionId === executionId)) {
      try {
        await db.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { pk: keys.runSlot(tenantId, 0).pk, sk: slot.sk },
            ConditionExpression: 'executionId = :id',
            ExpressionAttributeValues: { ':id': executionId },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }
}
