import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DynamoExecutionStore } from '#adapters/dynamo/execution-store.ts';
import { keys } from '#adapters/dynamo/keys.ts';
import { Table } from '#adapters/dynamo/table.ts';
import type { StepRecord } from '#core/executions/model.ts';
import { newId } from '#core/ids.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';

/**
 * A step's charge is written in one round trip (record, execution cost, month counters): the month's
 * commitment takes the whole charge at once and gives back the part the execution's reservation
 * covered (functions/adapters/dynamo/execution-store.ts). These tests hold the settled figures to the
 * reserve-then-settle rules on DynamoDB Local.
 */
const db = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    endpoint: inject('dynamodbEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }),
);
const TableName = LOCAL_NAMES.tableName;
const store = new DynamoExecutionStore(new Table(TableName, { platform: db, forTenant: async () => db }));
afterAll(() => db.destroy());
const MONTH = '2026-11';

/** A tenant with one execution that reserved `reservedMicros`, the month committed by that reservation. */
async function seed(reservedMicros: number): Promise<{ tenantId: string; executionId: string }> {
  const tenantId = newId('t');
  const executionId = newId('x');
  await db.send(
    new PutCommand({
      TableName,
      Item: {
        ...keys.execution(tenantId, executionId),
        type: 'execution',
        status: 'RUNNING',
        reservedMicros,
        usage: { inputTokens: 0, outputTokens: 0 },
        costMicros: 0,
      },
    }),
  );
  await db.send(
    new PutCommand({
      TableName,
      Item: { ...keys.usage(tenantId, MONTH), type: 'usage', committedMicros: reservedMicros, costMicros: 0 },
    }),
  );
  return { tenantId, executionId };
}

function step(stepKey: string): StepRecord {
  return {
    stepId: stepKey,
    stepKey,
    type: 'agent',
    attempts: 1,
    status: 'SUCCEEDED',
    startedAt: '2026-11-30T00:00:00.000Z',
    endedAt: '2026-11-30T00:00:01.000Z',
    durationMs: 1000,
  };
}

async function charge(ids: { tenantId: string; executionId: string }, stepKey: string, costMicros: number) {
  return store.finishStep(ids.tenantId, ids.executionId, step(stepKey), {
    usage: { inputTokens: 10, outputTokens: 1 },
    costMicros,
    workflowId: 'w1',
    agentId: 'a1',
    teams: ['team1'],
    month: MONTH,
  });
}

async function month(tenantId: string, dimension?: { kind: string; id: string }) {
  const out = await db.send(
    new GetCommand({ TableName, Key: keys.usage(tenantId, MONTH, dimension), ConsistentRead: true }),
  );
  return out.Item ?? {};
}

describe('a step charge', () => {
  it('grows the month commitment only by what passes the execution reservation', async () => {
    // Prepare: 100 reserved and committed at the start
    const ids = await seed(100);
    // Act: 60 inside the reservation, then 70 of which 30 pass it
    const first = await charge(ids, 's1', 60);
    const second = await charge(ids, 's2', 70);
    // Assess
    const totals = await month(ids.tenantId);
    expect(first).toBe(60);
    expect(second).toBe(130);
    expect(totals.costMicros).toBe(130);
    expect(totals.committedMicros).toBe(130);
    expect(totals.inputTokens).toBe(20);
    expect((await month(ids.tenantId, { kind: 'AGENT', id: 'a1' })).costMicros).toBe(130);
    expect((await month(ids.tenantId, { kind: 'TEAM', id: 'team1' })).costMicros).toBe(130);
  });

  it('commits the whole charge of an execution that reserved nothing', async () => {
    // Prepare
    const ids = await seed(0);
    // Act
    await charge(ids, 's1', 45);
    await charge(ids, 's2', 5);
    // Assess
    const totals = await month(ids.tenantId);
    expect(totals.committedMicros).toBe(50);
    expect(totals.costMicros).toBe(50);
  });

  it('writes the step record beside the charge', async () => {
    // Prepare
    const ids = await seed(10);
    // Act
    await charge(ids, 's1', 4);
    // Assess
    const out = await db.send(
      new GetCommand({
        TableName,
        Key: keys.executionStep(ids.tenantId, ids.executionId, 's1'),
        ConsistentRead: true,
      }),
    );
    expect(out.Item).toMatchObject({ status: 'SUCCEEDED', stepType: 'agent', type: 'step' });
    expect((await month(ids.tenantId)).committedMicros).toBe(10);
  });
});
