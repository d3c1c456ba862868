import { describe, expect, it } from 'vitest';
import { handlerNames } from '../../bench/bundles.ts';
import {
  accessLogLine,
  costModel,
  PRICES,
  platformLogBytes,
  requestUnits,
  s3Requests,
  statesEntered,
} from '../../bench/cost.ts';
import type { ExecutionSample } from '../../bench/executions.ts';
import { median, percentile } from '../../bench/lib.ts';
import { REFERENCES, referenceSource } from '../../bench/references.ts';
import { ABOUT, ALONE, ON_PLATFORM, render, type Stored } from '../../bench/run.ts';
import { ACCESS_LOG_FORMAT } from '../../lib/constructs/api.ts';
import type { DynamoCall } from '../helpers/dynamo-recorder.ts';

function dynamoCall(
  operation: string,
  input: Record<string, unknown>,
  output: Record<string, unknown> = {},
): DynamoCall {
  return { operation, input, output, phase: 'step-runner', ms: 1 };
}

describe('bench statistics', () => {
  it.each([
    { values: [5, 1, 3], p: 50, expected: 3 },
    { values: [1, 2, 3, 4], p: 50, expected: 2 },
    { values: Array.from({ length: 100 }, (_, i) => i + 1), p: 99, expected: 99 },
    { values: [7], p: 99, expected: 7 },
  ])('nearest-rank p$p of $values.length samples is $expected', ({ values, p, expected }) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it('takes the mean of the two middle samples of an even count, and refuses none', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow('No samples');
  });
});

describe('bench sections', () => {
  it('each one described runs once, alone or on the platform, and none runs undescribed', () => {
    const runs = [...Object.keys(ALONE), ...Object.keys(ON_PLATFORM)];
    expect(runs.sort()).toEqual(Object.keys(ABOUT).sort());
    expect(new Set(runs).size).toBe(runs.length);
  });
});

describe('bench references', () => {
  it('declares one for every Lambda entry point, and no other', async () => {
    expect(Object.keys(REFERENCES).sort()).toEqual(await handlerNames());
  });

  it('wraps the DynamoDB client in the document client and imports nothing it does not create', () => {
    // Act
    const source = referenceSource('authorizer', REFERENCES.authorizer ?? { clients: [], why: '' });

    // Assess
    expect(source).toContain("import { DynamoDBClient } from '@aws-sdk/client-dynamodb';");
    expect(source).toContain('DynamoDBDocumentClient.from(created[3])');
    expect(source).not.toContain('client-s3');
  });
});

describe('bench cost model', () => {
  it('charges 2 units per KB per item of a transaction, with the size of updated items read back', () => {
    const call = dynamoCall('TransactWriteItems', {
      TransactItems: [
        { Put: { Item: { pk: 'p', sk: 's', text: 'x'.repeat(1500) } } },
        { Update: { Key: { pk: 'p', sk: 'u' } } },
      ],
    });
    expect(requestUnits(call, (key) => (key === 'p|u' ? 3000 : 1024))).toEqual({
      rru: 0,
      wru: 2 * 2 + 2 * 3,
    });
  });

  it('charges reads per 4 KB, half when eventually consistent, at least one unit', () => {
    const get = (consistent: boolean, item?: unknown) =>
      requestUnits(dynamoCall('GetItem', { ConsistentRead: consistent }, { Item: item }), () => 0).rru;
    expect([get(true, { body: 'x'.repeat(5000) }), get(false, { a: 1 }), get(true)]).toEqual([2, 0.5, 1]);
  });

  it('charges a batch read per requested key at its table consistency, found or not, and no unprocessed key', () => {
    const call = dynamoCall(
      'BatchGetItem',
      {
        RequestItems: {
          main: { ConsistentRead: true, Keys: [{ pk: 'a' }, { pk: 'b' }, { pk: 'c' }, { pk: 'd' }] },
          other: { Keys: [{ pk: 'e' }] },
        },
      },
      {
        Responses: { main: [{ pk: 'a', body: 'x'.repeat(5000) }], other: [{ pk: 'e' }] },
        UnprocessedKeys: { main: { Keys: [{ pk: 'd' }] } },
      },
    );
    // main: a is 2 units, b and c found nothing (1 each), d unprocessed; other: one eventual read.
    expect(requestUnits(call, () => 0).rru).toBe(2 + 1 + 1 + 0.5);
  });

  it('charges a query by the size of all it returned together, at least one unit', () => {
    const query = (items: unknown[]) => requestUnits(dynamoCall('Query', {}, { Items: items }), () => 0).rru;
    expect([query([]), query([{ a: 'x'.repeat(3000) }, { a: 'x'.repeat(3000) }])]).toEqual([0.5, 1]);
  });

  it('prices the transitions, each invocation rounded up to 1 ms, and the request units', () => {
    // Prepare
    const sample: ExecutionSample = {
      invocations: [
        { fn: 'api', ms: 20.2 },
        { fn: 'step-runner', ms: 9.1 },
      ],
      calls: [dynamoCall('PutItem', { Item: { pk: 'p', sk: 's' } })],
      logBytes: 2000,
    };

    // Act
    const { lines } = costModel([sample], 5, () => 1024);

    // Assess
    const line = (prefix: string) => lines.find((l) => l.component.startsWith(prefix))?.per1000;
    expect(line('Step Functions')).toBeCloseTo(5 * PRICES.stateTransition.usd * 1000, 10);
    expect(line('Lambda step runner: compute')).toBeCloseTo(0.01 * PRICES.lambdaGbSecond.usd * 1000, 12);
    expect(line('DynamoDB write')).toBeCloseTo(PRICES.writeUnit.usd * 1000, 12);
    // The handlers' lines, Lambda's own for each of the two invocations at the prod memory sizes, and
    // the HTTP API's access log line for the one API request.
    const logged =
      2000 + platformLogBytes(20.2, 1024) + platformLogBytes(9.1, 1024) + accessLogLine().length + 1;
    expect(line('CloudWatch Logs')).toBeCloseTo(logged * PRICES.logIngestion.usd * 1000, 12);
    // The API's request starts a trace, and the execution has its own.
    expect(line('X-Ray')).toBeCloseTo(2 * PRICES.xrayTrace.usd * 1000, 12);
    expect(line('S3')).toBe(0);
  });

  it("counts Lambda's own log lines as AWS writes them, and the S3 requests the writes imply", () => {
    // Prepare: an offloaded output on a step record, and an execution that carries a retention.
    const calls = [
      dynamoCall('PutItem', { Item: { pk: 'p', sk: 'STEP#a', outputRef: { key: 'k' } } }),
      dynamoCall('PutItem', { Item: { pk: 'p', sk: 'META', retentionDays: 30 } }),
      dynamoCall('PutItem', { Item: { pk: 'p', sk: 'STEP#b' } }),
    ];
    const sample: ExecutionSample = { invocations: [], calls, logBytes: 0 };

    // Act
    const { lines } = costModel([sample], 1, () => 1024);

    // Assess: START 71, END 52, REPORT 144 and XRAY 92 bytes with their newlines; the offloaded
    // output's PUT, and at the end the retention's listing and the tagging of that one object.
    expect(platformLogBytes(20.2, 1024)).toBe(359);
    expect(lines.find((l) => l.component.startsWith('S3 requests'))?.per1000).toBeCloseTo(
      3 * PRICES.s3Request.usd * 1000,
      12,
    );
    expect(lines.find((l) => l.component.startsWith('S3 GET'))?.per1000).toBeCloseTo(
      PRICES.s3Get.usd * 1000,
      12,
    );
  });

  it('tags only the objects of executions that carry a retention, each once, after one listing', () => {
    const put = (pk: string, item: Record<string, unknown>) =>
      dynamoCall('PutItem', { Item: { pk, ...item } });
    const calls = [
      put('e1', { sk: 'STEP#a', outputRef: {} }),
      put('e1', { sk: 'STEP#b', outputRef: {} }),
      put('e1', { sk: 'META', retentionDays: 7 }),
      put('e2', { sk: 'STEP#a', outputRef: {} }),
      put('e2', { sk: 'META' }),
      put('e3', { sk: 'META', retentionDays: 7 }),
    ];
    // e1: 2 PUTs, 1 listing, 2 taggings; e2: 1 PUT; e3: 1 listing of nothing. Each output read once.
    expect(s3Requests(calls)).toEqual({ puts: 2 + 1 + 2 + 1 + 1, gets: 3 });
  });

  it("counts the HTTP API's access log line as the stage writes it, one JSON object a line", () => {
    const line = accessLogLine();
    // Every variable the format names is filled, so the line is JSON of the stage's fields.
    expect(line).not.toContain('$context');
    expect(Object.keys(JSON.parse(line))).toEqual(Object.keys(JSON.parse(ACCESS_LOG_FORMAT)));
    expect(JSON.parse(line)).toMatchObject({ routeKey: 'ANY /{proxy+}' });
  });
});

describe('bench helpers', () => {
  const asl = {
    StartAt: 'a',
    States: {
      a: { Type: 'Task', Next: 'route' },
      route: { Type: 'Choice', Choices: [{ Next: 'b' }], Default: 'done' },
      b: { Type: 'Task', Next: 'done' },
      done: { Type: 'Succeed' },
    },
  };

  it('follows a choice to the step that ran, else its default', () => {
    expect(statesEntered(asl, new Set(['a', 'b']))).toEqual(['a', 'route', 'b', 'done']);
    expect(statesEntered(asl, new Set(['a']))).toEqual(['a', 'route', 'done']);
  });

  it('fills the template from each section’s last figures and marks a section never run', () => {
    // Prepare
    const stored: Record<string, Stored> = {
      init: {
        rows: [{ target: 'api: module init', measured: '1.02×', verdict: 'PASS' }],
        values: { table: '| a |' },
        date: '2026-11-30T03:00:00.000Z',
        commit: 'abc1234',
        machine: 'm',
        load: '1.00',
        seconds: 12,
      },
    };

    // Act
    const text = render('{{summary}}\n{{init.table}} {{init.load}} {{console.files}}', stored);

    // Assess
    expect(text).toBe(
      '| Target | Measured | Result | Run |\n|---|---|---|---|\n| api: module init | 1.02× | PASS | init, 2026-11-30T03:00 |\n| a | 1.00 (not measured yet)',
    );
  });
});
