import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { keys } from '#adapters/dynamo/keys.ts';
import { DynamoTenantEraser } from '#adapters/dynamo/lifecycle-store.ts';
import { Table } from '#adapters/dynamo/table.ts';
import { newId } from '#core/ids.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import { localDocumentClient, newLocalDocumentClient } from '../helpers/local-dynamo.ts';

/**
 * The offboarding table phase finds executions through the tenant's executions index, which lists
 * only their records: a batch cut short must leave the record, or the retry cannot find the rest
 * of that execution (functions/adapters/dynamo/lifecycle-store.ts).
 */
const db = localDocumentClient();
const TableName = LOCAL_NAMES.tableName;
const RATE = { slotMs: 6_000, windowSeconds: 60 };

describe('offboarding an execution cut short', () => {
  it('erases the rest of it on the next run', async () => {
    // Prepare: an execution of 60 steps; the second delete request of the first run fails
    const tenantId = newId('t');
    const executionId = newId('x');
    await db.send(
      new PutCommand({
        TableName,
        Item: {
          ...keys.execution(tenantId, executionId),
          ...keys.executionsIndex(tenantId, '2026-11-30T00:00:00.000Z', executionId),
          type: 'execution',
        },
      }),
    );
    for (let i = 0; i < 60; i++) {
      await db.send(
        new PutCommand({
          TableName,
          Item: {
            ...keys.executionStep(tenantId, executionId, `s${String(i).padStart(2, '0')}`),
            type: 'step',
          },
        }),
      );
    }
    const failing = newLocalDocumentClient();
    let writes = 0;
    let firstWrite: Promise<unknown> = Promise.resolve();
    failing.middlewareStack.add(
      (next) => async (args) => {
        // Only deletes (BatchWriteItem) count; queries pass. The second fails once the first has
        // landed, as a throttled request does while the one before it went through.
        if (!('RequestItems' in (args.input as object))) return next(args);
        writes++;
        if (writes === 1) {
          const sent = next(args);
          firstWrite = sent;
          return sent;
        }
        if (writes === 2) {
          await firstWrite;
          throw new Error('throttled');
        }
        return next(args);
      },
      { step: 'initialize', name: 'failSecondWrite' },
    );
    const cutShort = new DynamoTenantEraser(
      new Table(TableName, { platform: failing, forTenant: async () => failing }),
      RATE,
    );
    const eraser = new DynamoTenantEraser(
      new Table(TableName, { platform: db, forTenant: async () => db }),
      RATE,
    );
    // Act
    const first = await cutShort.erase(tenantId).catch((error: unknown) => error);
    const second = await eraser.erase(tenantId);
    // Assess
    const left = await db.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.execution(tenantId, executionId).pk },
      }),
    );
    failing.destroy();
    expect(first).toBeInstanceOf(Error);
    expect(second.erased).toBeGreaterThan(0);
    expect(left.Items ?? []).toEqual([]);
  });
});
