import { describe, expect, it } from 'vitest';
import { costModel, PRICES, type Sizings } from '../../bench/cost.ts';
import type { DynamoCall } from '../../bench/dynamo-recorder.ts';
import { billingDetail, itemBytes, onDemandUnits, valueBytes } from '../../bench/dynamo-units.ts';
import { type ExecutionSample, pollIntervalOf, statesEntered } from '../../bench/executions.ts';
import { routeOf } from '../../bench/local-session.ts';

const sizings = (deliversRunning: boolean): Sizings => ({
  functions: {
    api: { memoryMb: 1024, source: 'test' },
    authorizer: { memoryMb: 512, source: 'test' },
    'step-runner': { memoryMb: 1024, source: 'test' },
    'status-handler': { memoryMb: 256, source: 'test' },
    'approval-handler': { memoryMb: 256, source: 'test' },
  },
  arm64: true,
  architectureSource: 'test',
  statusRule: { deliversRunning, source: 'test' },
});

function call(operation: string, input: unknown, output: unknown = {}, phase = 'step-runner'): DynamoCall {
  return {
    operation,
    detail: '',
    readKeys: [],
    writtenKeys: [],
    rcu: 0,
    wcu: 0,
    phase,
    billing: billingDetail(operation, input, output),
  };
}

describe('DynamoDB item sizes', () => {
  it.each([
    { value: 'abc', bytes: 3 },
    { value: 'é', bytes: 2 },
    { value: 12345, bytes: 4 },
    { value: 0.5, bytes: 2 },
    { value: true, bytes: 1 },
    { value: null, bytes: 1 },
    { value: ['a', 'bc'], bytes: 3 + 1 + 1 + 2 + 1 },
    { value: { k: 'v' }, bytes: 3 + 1 + 1 + 1 },
  ])('a value $value counts $bytes bytes', ({ value, bytes }) => {
    expect(valueBytes(value)).toBe(bytes);
  });

  it('counts attribute names and values of an item', () => {
    expect(itemBytes({ pk: 'ab', n: 12345 })).toBe(2 + 2 + 1 + 4);
  });
});

describe('DynamoDB on-demand units', () => {
  it('charges 2 units per KB per item of a transaction, reading back the size of updated items', () => {
    // Prepare
    const input = {
      TransactItems: [
        { Put: { TableName: 't', Item: { pk: 'p', sk: 's', text: 'x'.repeat(1500) } } },
        { Update: { TableName: 't', Key: { pk: 'p', sk: 'u' }, UpdateExpression: 'SET a = :a' } },
      ],
    };
    const detail = billingDetail('TransactWriteItems', input, {});

    // Act
    const unknownSize = onDemandUnits('TransactWriteItems', detail);
    const knownSize = onDemandUnits('TransactWriteItems', detail, (key) =>
      key === 'p|u' ? 3000 : undefined,
    );

    // Assess
    expect(unknownSize).toEqual({ rru: 0, wru: 2 * 2 + 2 * 1 });
    expect(knownSize).toEqual({ rru: 0, wru: 2 * 2 + 2 * 3 });
  });

  it.each([
    { consistent: true, item: { pk: 'p', sk: 's', body: 'x'.repeat(5000) }, rru: 2 },
    { consistent: false, item: { pk: 'p', sk: 's' }, rru: 0.5 },
    { consistent: true, item: undefined, rru: 1 },
  ])('a GetItem (consistent: $consistent) costs $rru read units', ({ consistent, item, rru }) => {
    const detail = billingDetail(
      'GetItem',
      { Key: { pk: 'p', sk: 's' }, ConsistentRead: consistent },
      { Item: item },
    );
    expect(onDemandUnits('GetItem', detail)).toEqual({ rru, wru: 0 });
  });

  it('sums a query over the items it returns, at least one unit', () => {
    const items = [{ body: 'x'.repeat(3000) }, { body: 'y'.repeat(3000) }];
    expect(
      onDemandUnits('Query', billingDetail('Query', { ConsistentRead: true }, { Items: items })),
    ).toEqual({
      rru: 2,
      wru: 0,
    });
    expect(onDemandUnits('Query', billingDetail('Query', {}, { Items: [] }))).toEqual({ rru: 0.5, wru: 0 });
  });
});

describe('states entered by an execution', () => {
  const asl = {
    StartAt: 'a',
    States: {
      a: { Type: 'Task', Next: 'route' },
      route: { Type: 'Choice', Choices: [{ Next: 'b' }], Default: 'done' },
      b: { Type: 'Task', Next: 'done' },
      done: { Type: 'Succeed' },
    },
  };

  it('follows the choice to the step that ran', () => {
    expect(statesEntered(asl, new Set(['a', 'b']))).toEqual(['a', 'route', 'b', 'done']);
  });

  it('takes the default when no choice target ran', () => {
    expect(statesEntered(asl, new Set(['a']))).toEqual(['a', 'route', 'done']);
  });
});

describe('cost model', () => {
  const sample: ExecutionSample = {
    executionId: 'x1',
    status: 'SUCCEEDED',
    invocations: [
      { fn: 'api', label: 'POST /workflows/{workflowId}/executions', ms: 20.2 },
      { fn: 'api', label: 'GET /executions/{executionId}', ms: 3.5 },
      { fn: 'authorizer', label: '', ms: 0.05 },
      { fn: 'authorizer', label: '', ms: 0.05 },
      { fn: 'step-runner', label: 'x1', ms: 9.1 },
      { fn: 'status-handler', label: 'x1', ms: 4 },
    ],
    calls: [call('PutItem', { Item: { pk: 'p', sk: 's' } })],
  };

  it('prices the transitions, the Lambda time rounded up per invocation and the request units', () => {
    // Act
    const result = costModel({
      samples: [sample],
      transitions: 5,
      itemSizes: {},
      sizings: sizings(false),
      readRoute: 'GET /executions/{executionId}',
    });

    // Assess
    const line = (prefix: string) => result.lines.find((l) => l.component.startsWith(prefix))?.usdPer1000;
    expect(line('Step Functions')).toBeCloseTo(5 * PRICES.stateTransition * 1000, 10);
    expect(line('Lambda step runner: compute')).toBeCloseTo(0.01 * 1 * PRICES.lambdaArmGbSecond * 1000, 12);
    expect(line('DynamoDB on-demand, write')).toBeCloseTo(PRICES.writeRequestUnit * 1000, 12);
    expect(line('API Gateway')).toBeCloseTo(2 * PRICES.httpApiRequest * 1000, 12);
    expect(result.totalPer1000).toBeCloseTo(
      result.lines.reduce((t, l) => t + l.usdPer1000, 0),
      12,
    );
  });

  it('adds the RUNNING event invocation of the status handler when the rule forwards it', () => {
    const result = costModel({
      samples: [sample],
      transitions: 5,
      itemSizes: {},
      sizings: sizings(true),
      readRoute: 'GET /executions/{executionId}',
    });
    const status = result.functions.find((f) => f.fn === 'status-handler');
    expect(status?.invocations).toBe(2);
    expect(status?.billedMs).toBe((4 + 1) / 2);
  });
});

describe('bench helpers', () => {
  it('names the declared route of a path', () => {
    const declared = [
      'GET /executions',
      'GET /executions/{executionId}',
      'POST /executions/{executionId}/cancel',
    ];
    expect(routeOf('GET', '/executions/x123', declared)).toBe('GET /executions/{executionId}');
    expect(routeOf('POST', '/executions/x123/cancel', declared)).toBe(
      'POST /executions/{executionId}/cancel',
    );
  });

  it('polls less often as more executions poll at once', () => {
    expect([1, 8, 32].map(pollIntervalOf)).toEqual([20, 40, 160]);
  });
});
