import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DigestIndex } from '#core/audit/archiver.ts';
import type { Digest } from '#core/audit/digest.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import * as keys from './item-keys.ts';
import type { Table } from './table.ts';

const DIGEST_PREFIX = 'DIGEST#';

/**
 * The stream consumer's index of digests, beside the tenant's audit records (written by the
 * consumer only, never on a mutation's path), and the TTL it sets on records once archived.
 */
export class DynamoDigestIndex implements DigestIndex {
  constructor(
    private readonly table: Table,
    /** How long a record stays in the table after its digest is archived. */
    private readonly retentionSeconds: number,
  ) {}

  async latest(tenantId: string): Promise<Digest | undefined> {
    const out = await this.table.clients.platform.send(
      new QueryCommand({
        TableName: this.table.name,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': keys.auditPartition(tenantId), ':p': DIGEST_PREFIX },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    return item ? (JSON.parse(String(item.digest)) as Digest) : undefined;
  }

  async add(digest: Digest): Promise<void> {
    await this.table.clients.platform.send(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          pk: keys.auditPartition(digest.tenantId),
          sk: `${DIGEST_PREFIX}${String(digest.seq).padStart(12, '0')}`,
          type: 'auditDigest',
          digest: JSON.stringify(digest),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async expire(tenantId: string, ids: readonly string[], at: Date): Promise<void> {
    const epoch = Math.floor(at.getTime() / 1000) + this.retentionSeconds;
    // Only records still there: a record deleted meanwhile is not recreated as a stub.
    await Promise.all(
      ids.map((id) =>
        this.table.clients.platform
          .send(
            new UpdateCommand({
              TableName: this.table.name,
              Key: keys.auditRecord(tenantId, id),
              UpdateExpression: 'SET #ttl = :t',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: { '#ttl': TABLE_SCHEMA.ttlAttribute },
              ExpressionAttributeValues: { ':t': epoch },
            }),
          )
          .catch((error: unknown) => {
            if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
          }),
      ),
    );
  }
}
