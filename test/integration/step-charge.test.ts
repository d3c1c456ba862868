import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoExecutionStore } from '#adapters/dynamo/execution-store.ts';
import { keys } from '#adapters/dynamo/keys.ts';
import { Table } from '#adapters/dynamo/table.ts';
import type { StepRecord } from '#core/executions/model.ts';
import { newId } from '#core/ids.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import { localDocumentClient } from '../helpers/local-dynamo.ts';

/**
 * A step's charge is written in one round trip (record, execution cost, month counters): the month's
 * commitment takes the whole charge at once and gives back the part the execution's reservation
 * covered (functions/adapters/dynamo/execution-store.ts). These tests hold the settled figures to the
 * reserve-then-settle rules on DynamoDB Local.
 */
const db = localDocumentClient();
const TableName = LOCAL_NAMES.tableName;
const store = new DynamoExecutionStore(new Table(TableName, { platform: db, forTenant: async () => db }));
const MONTH = '2026-11';

/**
 * A tenant with one execution that reserved `reservedMicros`, the month committed by that
 * reservation. `run` gives the fields an execution started since give-backs are counted has (a
 * redriven one: `reserveBaseMicros`, what it had spent, and the month committed by it too); without
 * it, the execution is one started before.
 */
async function seed(
  reservedMicros: number,
  run?: { reserveBaseMicros?: number },
): Promise<{ tenantId: string; executionId: string }> {
  const tenantId = newId('t');
  const executionId = newId('x');
  const spent = run?.reserveBaseMicros ?? 0;
  await db.send(
    new PutCommand({
      TableName,
      Item: {
        ...keys.execution(tenantId, executionId),
        type: 'execution',
        status: 'RUNNING',
        reservedMicros,
        usage: { inputTokens: 0, outputTokens: 0 },
        costMicros: spent,
        ...(run ? { givenBackMicros: 0 } : {}),
        ...(run?.reserveBaseMicros !== undefined
          ? { reserveBaseMicros: run.reserveBaseMicros, redriveCount: 1 }
          : {}),
      },
    }),
  );
  await db.send(
    new PutCommand({
      TableName,
      Item: {
        ...keys.usage(tenantId, MONTH),
        type: 'usage',
        committedMicros: reservedMicros,
        costMicros: spent,
      },
    }),
  );
  return { tenantId, executionId };
}

async function execution(ids: { tenantId: string; executionId: string }) {
  const out = await db.send(
    new GetCommand({ TableName, Key: keys.execution(ids.tenantId, ids.executionId), ConsistentRead: true }),
  );
  return out.Item ?? {};
}

/** A store whose transactions all fail, as a give-back throttled past the SDK's retries does. */
const throttled = new DynamoExecutionStore(
  new Table(TableName, {
    platform: db,
    forTenant: async () =>
      ({
        send: (command: unknown) =>
          command instanceof TransactWriteCommand
            ? Promise.reject(new Error('ProvisionedThroughputExceededException'))
            : db.send(command as never),
      }) as unknown as DynamoDBDocumentClient,
  }),
);

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

async function charge(
  ids: { tenantId: string; executionId: string },
  stepKey: string,
  costMicros: number,
  by = store,
) {
  return by.finishStep(ids.tenantId, ids.executionId, step(stepKey), {
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
    const usage = await store.usage(ids.tenantId, MONTH);
    const cost = (kind: string) => usage.byDimension.find((d) => d.kind === kind)?.counters.costMicros;
    expect(usage.byDimension.map((d) => `${d.kind}:${d.id}`)).toEqual([
      'AGENT:a1',
      'TEAM:team1',
      'WORKFLOW:w1',
    ]);
    expect([cost('AGENT'), cost('TEAM'), cost('WORKFLOW')]).toEqual([130, 130, 130]);
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
  it('reads usage by workflow and agent from the pairs, beside items written before them', async () => {
    // Prepare: a month with counters of the old layout (an agent's own item, usage on the workflow's)
    const ids = await seed(0);
    const item = (kind: string, id: string, fields: Record<string, number>) =>
      db.send(
        new PutCommand({
          TableName,
          Item: { ...keys.usage(ids.tenantId, MONTH, { kind, id }), type: 'usage', ...fields },
        }),
      );
    await item('AGENT', 'a1', { executions: 2, costMicros: 10, inputTokens: 1, outputTokens: 1 });
    await item('WORKFLOW', 'w1', { executions: 3, costMicros: 10, inputTokens: 1, outputTokens: 1 });
    await item('PAIR', 'w1#a2', { executions: 1, costMicros: 0, inputTokens: 0, outputTokens: 0 });
    // Act: a charge of agent a1 in workflow w1 and one of a2
    await charge(ids, 's1', 5);
    await store.finishStep(ids.tenantId, ids.executionId, step('s2'), {
      usage: { inputTokens: 10, outputTokens: 1 },
      costMicros: 7,
      workflowId: 'w1',
      agentId: 'a2',
      teams: [],
      month: MONTH,
    });
    const usage = await store.usage(ids.tenantId, MONTH);
    // Assess: the workflow's executions once; its cost and tokens from every source
    expect(usage.byDimension).toEqual([
      {
        kind: 'AGENT',
        id: 'a1',
        counters: { executions: 2, costMicros: 15, inputTokens: 11, outputTokens: 2 },
      },
      {
        kind: 'AGENT',
        id: 'a2',
        counters: { executions: 1, costMicros: 7, inputTokens: 10, outputTokens: 1 },
      },
      {
        kind: 'TEAM',
        id: 'team1',
        counters: { executions: 0, costMicros: 5, inputTokens: 10, outputTokens: 1 },
      },
      {
        kind: 'WORKFLOW',
        id: 'w1',
        counters: { executions: 3, costMicros: 22, inputTokens: 21, outputTokens: 3 },
      },
    ]);
  });
});

describe('the end of a run that counts its give-backs', () => {
  it('counts each give-back on the execution and gives back exactly the rest', async () => {
    // Prepare: 100 reserved and committed at the start
    const ids = await seed(100, {});
    // Act: 30 inside the reservation, then the end
    await charge(ids, 's1', 30);
    const given = (await execution(ids)).givenBackMicros;
    const released = await store.settleReservation(ids.tenantId, ids.executionId, MONTH, 0);
    // Assess: the month is committed by the cost alone
    expect(given).toBe(30);
    expect(released).toBe(70);
    expect((await month(ids.tenantId)).committedMicros).toBe(30);
    expect((await execution(ids)).reservationSettled).toBe(true);
  });

  it('gives back nothing at the end of a run that spent its whole reservation', async () => {
    // Prepare
    const ids = await seed(100, {});
    // Act: 60, then 70 of which 30 pass the reservation
    await charge(ids, 's1', 60);
    await charge(ids, 's2', 70);
    const released = await store.settleReservation(ids.tenantId, ids.executionId, MONTH, 0);
    // Assess
    expect((await execution(ids)).givenBackMicros).toBe(100);
    expect(released).toBe(0);
    expect((await month(ids.tenantId)).committedMicros).toBe(130);
  });

  it('makes good a give-back that was lost', async () => {
    // Prepare
    const ids = await seed(100, {});
    // Act: the charge is recorded, its give-back fails; then the end
    const spent = await charge(ids, 's1', 30, throttled);
    const high = (await month(ids.tenantId)).committedMicros;
    await store.settleReservation(ids.tenantId, ids.executionId, MONTH, 0);
    // Assess: high by the lost 30 until the end, exact after it
    expect(spent).toBe(30);
    expect(high).toBe(130);
    expect((await execution(ids)).givenBackMicros).toBe(0);
    expect((await month(ids.tenantId)).committedMicros).toBe(30);
  });

  it('settles once: a charge after it commits its whole cost, a second settlement gives nothing', async () => {
    // Prepare
    const ids = await seed(100, {});
    await charge(ids, 's1', 20);
    await store.settleReservation(ids.tenantId, ids.executionId, MONTH, 0);
    // Act: a step that ran on after a cancellation, then a second settlement
    await charge(ids, 's2', 50);
    const again = await store.settleReservation(ids.tenantId, ids.executionId, MONTH, 0);
    // Assess
    expect(again).toBe(0);
    expect((await execution(ids)).givenBackMicros).toBe(20);
    expect((await month(ids.tenantId)).committedMicros).toBe(70);
    expect((await month(ids.tenantId)).costMicros).toBe(70);
  });

  it('settles a redriven run from the cost it began at', async () => {
    // Prepare: 40 spent by the first run, 100 reserved by the redrive (140 committed)
    const ids = await seed(140, { reserveBaseMicros: 40 });
    // Act: the first run's settlement comes too late to count; the redrive's settles
    await charge(ids, 's1', 30);
    const late = await store.settleReservation(ids.tenantId, ids.executionId, MONTH, 0);
    const released = await store.settleReservation(ids.tenantId, ids.executionId, MONTH, 1);
    // Assess: committed by both runs' cost
    expect(late).toBe(0);
    expect(released).toBe(70);
    expect((await month(ids.tenantId)).committedMicros).toBe(70);
  });

  it('settles an execution started before give-backs were counted as before', async () => {
    // Prepare
    const ids = await seed(100);
    // Act
    await charge(ids, 's1', 60);
    const released = await store.settleReservation(ids.tenantId, ids.executionId, MONTH, 0);
    // Assess
    expect((await execution(ids)).givenBackMicros).toBeUndefined();
    expect(released).toBe(40);
    expect((await month(ids.tenantId)).committedMicros).toBe(60);
  });

  it('settles nothing of an execution that does not exist', async () => {
    expect(await store.settleReservation(newId('t'), newId('x'), MONTH, 0)).toBe(0);
  });

  it('gives nothing back to a run that was redriven between the charge and its give-back', async () => {
    // Prepare: the give-back waits while the run ends, settles and is redriven
    const ids = await seed(100, {});
    const late = new DynamoExecutionStore(
      new Table(TableName, {
        platform: db,
        forTenant: async () =>
          ({
            send: async (command: unknown) => {
              if (command instanceof TransactWriteCommand) {
                await store.settleReservation(ids.tenantId, ids.executionId, MONTH, 0);
                await db.send(
                  new UpdateCommand({
                    TableName,
                    Key: keys.execution(ids.tenantId, ids.executionId),
                    UpdateExpression:
                      'SET redriveCount = :one, givenBackMicros = :zero, reservedMicros = :r, reserveBaseMicros = :base REMOVE reservationSettled',
                    ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':r': 130, ':base': 30 },
                  }),
                );
                await db.send(
                  new UpdateCommand({
                    TableName,
                    Key: keys.usage(ids.tenantId, MONTH),
                    UpdateExpression: 'ADD committedMicros :r',
                    ExpressionAttributeValues: { ':r': 100 },
                  }),
                );
              }
              return db.send(command as never);
            },
          }) as unknown as DynamoDBDocumentClient,
      }),
    );
    // Act: a charge of 30 in the first run, whose give-back lands after the redrive
    await charge(ids, 's1', 30, late);
    const fresh = await execution(ids);
    // While the redriven run runs: its 100 reserved and the first run's 30 spent, nothing taken off.
    const running = (await month(ids.tenantId)).committedMicros;
    await store.settleReservation(ids.tenantId, ids.executionId, MONTH, 1);
    // Assess: the first run cost 30 and the second nothing: 30 committed, not less
    expect(fresh.givenBackMicros).toBe(0);
    expect(running).toBe(130);
    expect((await month(ids.tenantId)).committedMicros).toBe(30);
  });

  it('settles in one transaction: a settlement that failed leaves no mark, and the next one counts', async () => {
    // Prepare
    const ids = await seed(100, {});
    await charge(ids, 's1', 30);
    // Act: the first settlement's transaction is refused
    await expect(throttled.settleReservation(ids.tenantId, ids.executionId, MONTH, 0)).rejects.toThrow(
      /ProvisionedThroughputExceeded/,
    );
    const unmarked = (await execution(ids)).reservationSettled;
    const released = await store.settleReservation(ids.tenantId, ids.executionId, MONTH, 0);
    // Assess
    expect(unmarked).toBeUndefined();
    expect(released).toBe(70);
    expect((await month(ids.tenantId)).committedMicros).toBe(30);
  });
});
