import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDefinitionStore } from '#adapters/dynamo/definition-store.ts';
import { DynamoExecutionStore } from '#adapters/dynamo/execution-store.ts';
import { headKey, keys, versionKey } from '#adapters/dynamo/keys.ts';
import { Table } from '#adapters/dynamo/table.ts';
import { BudgetExceededError, QuotaExceededError } from '#core/errors.ts';
import type { ExecutionDeps } from '#core/executions/deps.ts';
import { startExecution } from '#core/executions/start.ts';
import { derivedId } from '#core/ids.ts';
import type { Caller } from '#core/tenancy/context.ts';

const T = 'tabcdefghijklmnop';
const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(db);
const table = new Table('t', { platform: db, forTenant: async () => db });
const executions = new DynamoExecutionStore(table);
const started: string[] = [];
const deps = {
  executions,
  definitions: new DynamoDefinitionStore(table),
  engine: {
    start: async (input: { executionId: string }) => {
      started.push(input.executionId);
      return { engineArn: `arn:${input.executionId}` };
    },
  },
  now: () => new Date('2026-11-29T10:00:00.000Z'),
} as unknown as ExecutionDeps;
const caller: Caller = {
  principal: {
    kind: 'tenant',
    tenantId: T,
    principalId: 'u1',
    principalType: 'user',
    roles: ['admin'],
    permissions: new Set(),
  },
  meta: { requestId: 'r', sourceIp: '10.0.0.1', userAgent: 'ua', now: '2026-11-29T10:00:00.000Z' },
};
const head = {
  ...headKey(T, 'workflow', 'w1'),
  id: 'w1',
  kind: 'workflow',
  environments: { dev: 1 },
  stateMachineArn: 'arn:sm',
};

function items(budget?: Record<string, unknown>) {
  return [
    head,
    { ...keys.tenant(T), tenantId: T, plan: 'free', status: 'active' },
    { ...keys.user(T, 'u1'), userId: 'u1', teams: ['team1'] },
    ...(budget ? [{ ...keys.budget(T), ...budget }] : []),
  ];
}

beforeEach(() => {
  started.length = 0;
  mock.on(GetCommand).resolves({});
  mock.on(GetCommand, { Key: versionKey(T, 'workflow', 'w1', 1) }).resolves({
    Item: { ...versionKey(T, 'workflow', 'w1', 1), id: 'w1', version: 1, definition: {}, asl: '{}' },
  });
  mock.on(UpdateCommand).resolves({});
  mock.on(TransactWriteCommand).resolves({});
});
afterEach(() => mock.reset());

/** The commands sent, in order, as their names. */
const sent = () => mock.calls().map((c) => c.args[0].constructor.name);

describe('the start path', () => {
  it('makes 3 DynamoDB round trips before its write transaction: a batched read, the version, the reservation', async () => {
    // Prepare
    mock.on(BatchGetCommand).resolves({ Responses: { t: items() } });
    // Act
    const result = await startExecution(deps, caller, 'w1', { input: {} }, 'key-1');
    // Assess
    expect(result.created).toBe(true);
    const order = sent();
    expect(order.indexOf('TransactWriteCommand')).toBe(3);
    expect(order.slice(0, 3)).toEqual(['BatchGetCommand', 'GetCommand', 'UpdateCommand']);
    const batch = mock.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.t;
    expect(batch?.ConsistentRead).toBe(true);
    expect(batch?.Keys).toHaveLength(5);
    const reserve = mock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(reserve?.Key).toEqual(keys.usage(T, '2026-11'));
    expect(reserve?.ExpressionAttributeValues).toMatchObject({ ':quota': 100, ':r': 0 });
    const tx = mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(tx).toHaveLength(2);
    expect(tx.map((i) => String(i.Put?.Item?.sk).split('#')[0])).toEqual(['META', 'REC']);
    expect(tx[0]?.Put?.Item).toMatchObject({ teams: ['team1'], reservedMicros: 0 });
    expect(started).toHaveLength(1);
  });

  it('asks again for keys a batched read left unprocessed', async () => {
    // Prepare
    const all = items();
    mock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { t: all.slice(1) },
        UnprocessedKeys: { t: { Keys: [headKey(T, 'workflow', 'w1')] } },
      })
      .resolves({ Responses: { t: [head] } });
    // Act
    const result = await startExecution(deps, caller, 'w1', { input: {} }, undefined);
    // Assess
    expect(result.created).toBe(true);
    expect(mock.commandCalls(BatchGetCommand)).toHaveLength(2);
    expect(mock.commandCalls(BatchGetCommand)[1]?.args[0].input.RequestItems?.t?.Keys).toEqual([
      headKey(T, 'workflow', 'w1'),
    ]);
  });

  it('reserves the budget estimate under a condition, and answers 402 when the month is committed', async () => {
    // Prepare
    const budget = { monthlyLimitMicros: 1_000_000, hardStop: true, reservePerExecutionMicros: 100_000 };
    mock.on(BatchGetCommand).resolves({ Responses: { t: items(budget) } });
    mock.on(UpdateCommand, { Key: keys.usage(T, '2026-11') }).rejects(
      new ConditionalCheckFailedException({
        message: 'no',
        $metadata: {},
        Item: { committedMicros: { N: '950000' }, executions: { N: '3' } },
      }),
    );
    // Act
    const result = startExecution(deps, caller, 'w1', { input: {} }, undefined);
    // Assess
    await expect(result).rejects.toBeInstanceOf(BudgetExceededError);
    const reserve = mock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(reserve?.ConditionExpression).toContain('committedMicros <= :max');
    expect(reserve?.ExpressionAttributeValues).toMatchObject({ ':r': 100_000, ':max': 900_000 });
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(started).toHaveLength(0);
  });

  it("answers 429 when the plan's quota is what failed the condition", async () => {
    // Prepare
    mock.on(BatchGetCommand).resolves({ Responses: { t: items() } });
    mock.on(UpdateCommand, { Key: keys.usage(T, '2026-11') }).rejects(
      new ConditionalCheckFailedException({
        message: 'no',
        $metadata: {},
        Item: { committedMicros: { N: '0' }, executions: { N: '100' } },
      }),
    );
    // Act
    const result = startExecution(deps, caller, 'w1', { input: {} }, undefined);
    // Assess
    await expect(result).rejects.toBeInstanceOf(QuotaExceededError);
    await expect(result).rejects.toMatchObject({ retryAfterSeconds: 2 * 24 * 3600 - 10 * 3600 });
  });

  it('gives the reservation and the count back when the write finds the execution already made', async () => {
    // Prepare
    const budget = { monthlyLimitMicros: 1_000_000, hardStop: true, reservePerExecutionMicros: 100_000 };
    mock.on(BatchGetCommand).resolves({ Responses: { t: items(budget) } });
    mock.on(TransactWriteCommand).rejects(
      Object.assign(
        new (await import('@aws-sdk/client-dynamodb')).TransactionCanceledException({
          message: 'x',
          $metadata: {},
          CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
        }),
      ),
    );
    mock.on(GetCommand, { Key: keys.execution(T, derivedId('x', `${T}|w1|key-2`)) }).resolves({
      Item: {
        ...keys.execution(T, derivedId('x', `${T}|w1|key-2`)),
        executionId: derivedId('x', `${T}|w1|key-2`),
        workflowId: 'w1',
        status: 'RUNNING',
        requestHash: 'other',
        engineArn: 'arn',
      },
    });
    // Act
    const result = startExecution(deps, caller, 'w1', { input: {} }, 'key-2');
    // Assess
    await expect(result).rejects.toThrow(/different request body/);
    const release = mock.commandCalls(UpdateCommand)[1]?.args[0].input;
    expect(release?.Key).toEqual(keys.usage(T, '2026-11'));
    expect(Object.values(release?.ExpressionAttributeValues ?? {})).toEqual(
      expect.arrayContaining([-100_000, -1]),
    );
  });
});
