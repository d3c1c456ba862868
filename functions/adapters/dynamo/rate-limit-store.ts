import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RateCounterStore } from '#core/governance/rate-limit.ts';
import * as keys from './item-keys.ts';
import type { TenantClients } from './table.ts';

/**
 * Rate-limit counters in the single table: one item per tenant, counter and slot, raised by an
 * atomic conditional ADD, so every container draws on the same count without reading it first.
 * The slot is in the partition key, so successive slots land on different partitions.
 */
export class DynamoRateCounterStore implements RateCounterStore {
  constructor(
    private readonly tableName: string,
    private readonly clients: TenantClients,
  ) {}

  async tryAdd(
    tenantId: string,
    counter: string,
    slot: number,
    n: number,
    cap: number,
    expiresAt: number,
  ): Promise<number | undefined> {
    const db = await this.clients.forTenant(tenantId);
    try {
      const out = await db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.rateCounter(tenantId, counter, slot),
          UpdateExpression: 'ADD #count :n SET #type = :type, #expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#count) OR #count <= :room',
          ExpressionAttributeNames: { '#count': 'count', '#type': 'type', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: {
            ':n': n,
            ':room': cap - n,
            ':type': 'rateCounter',
            ':expiresAt': expiresAt,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(out.Attributes?.count ?? n);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}
