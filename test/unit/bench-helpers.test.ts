import type { Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { judge } from '../../bench/capacity.ts';
import { type DynamoCall, kindOf } from '../../bench/dynamo-recorder.ts';
import { sdkPackagesOf } from '../../bench/reference.ts';
import { median, percentile } from '../../bench/stats.ts';

const T = 'TENANT#tabcdefghijklmnop';

function dynamoCall(operation: string, overrides: Partial<DynamoCall> = {}): DynamoCall {
  return {
    operation,
    detail: '',
    readKeys: [],
    writtenKeys: [],
    rcu: 0,
    wcu: 0,
    phase: 'route',
    ...overrides,
  };
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

  it.each([
    { values: [3, 1, 2], expected: 2 },
    { values: [4, 1, 3, 2], expected: 2.5 },
  ])('median of $values is $expected', ({ values, expected }) => {
    expect(median(values)).toBe(expected);
  });

  it('refuses an empty sample', () => {
    expect(() => median([])).toThrow('No samples');
  });
});

describe('bench route targets', () => {
  it('passes a read of one request', () => {
    expect(judge('read', [dynamoCall('GetItem')]).verdict).toBe('PASS');
  });

  it('misses a read of two requests and names them', () => {
    // Act
    const result = judge('read', [
      dynamoCall('GetItem', { detail: 'TEAM' }),
      dynamoCall('Query', { detail: 'table USER#' }),
    ]);

    // Assess
    expect(result).toEqual({ verdict: 'MISS', why: '2 read requests: GetItem(TEAM), Query(table USER#)' });
  });

  it('passes a write that reads only what its one transaction writes', () => {
    // Prepare
    const user = `${T}|USER#u1`;
    const head = `${T}#AUDIT|HEAD`;

    // Act
    const result = judge('write', [
      dynamoCall('GetItem', { readKeys: [user] }),
      dynamoCall('GetItem', { readKeys: [head] }),
      dynamoCall('TransactWriteItems', { writtenKeys: [user, head, `${T}#AUDIT|SEQ#000000000001`] }),
    ]);

    // Assess
    expect(result.verdict).toBe('PASS');
  });

  it.each([
    {
      name: 'reads another item first',
      calls: [
        dynamoCall('BatchGetItem', { detail: 'ROLE', readKeys: [`${T}|ROLE#r`] }),
        dynamoCall('TransactWriteItems', { writtenKeys: [`${T}|USER#u1`] }),
      ],
      why: 'reads items it does not write: BatchGetItem(ROLE)',
    },
    {
      name: 'writes outside the transaction',
      calls: [dynamoCall('UpdateItem'), dynamoCall('TransactWriteItems')],
      why: 'writes outside the transaction: UpdateItem×1',
    },
    {
      name: 'uses two transactions',
      calls: [dynamoCall('TransactWriteItems'), dynamoCall('TransactWriteItems')],
      why: '2 transactions',
    },
    { name: 'scans', calls: [dynamoCall('Scan')], why: '1 Scan' },
  ])('misses a write that $name', ({ calls, why }) => {
    expect(judge('write', calls)).toEqual({ verdict: 'MISS', why });
  });

  it.each([
    { key: `${T}|USER#u1`, kind: 'USER' },
    { key: `${T}#AUDIT|HEAD`, kind: 'AUDIT/HEAD' },
    { key: `${T}|PROFILE`, kind: 'PROFILE' },
  ])('names the item kind of $key as $kind', ({ key, kind }) => {
    expect(kindOf(key)).toBe(kind);
  });
});

describe('bench reference packages', () => {
  it('lists the SDK and Powertools packages project code imports and the bundle contains', () => {
    // Prepare
    const metafile = {
      inputs: {
        'functions/a.ts': {
          bytes: 1,
          imports: [
            {
              path: 'node_modules/@aws-sdk/client-s3/dist-es/index.js',
              kind: 'import-statement',
              original: '@aws-sdk/client-s3',
            },
            {
              path: 'node_modules/@aws-lambda-powertools/logger/lib/esm/index.js',
              kind: 'import-statement',
              original: '@aws-lambda-powertools/logger/types',
            },
            {
              path: 'node_modules/@aws-sdk/types/dist-es/index.js',
              kind: 'import-statement',
              original: '@aws-sdk/types',
            },
            { path: 'node_modules/zod/index.js', kind: 'import-statement', original: 'zod' },
          ],
        },
        'node_modules/@aws-sdk/client-s3/dist-es/index.js': {
          bytes: 1,
          imports: [
            {
              path: 'node_modules/@aws-sdk/core/dist-es/index.js',
              kind: 'import-statement',
              original: '@aws-sdk/core',
            },
          ],
        },
      },
      outputs: {
        'out/index.mjs': {
          bytes: 3,
          imports: [],
          exports: [],
          inputs: {
            'node_modules/@aws-sdk/client-s3/dist-es/index.js': { bytesInOutput: 10 },
            'node_modules/@aws-sdk/core/dist-es/index.js': { bytesInOutput: 10 },
            'node_modules/@aws-lambda-powertools/logger/lib/esm/index.js': { bytesInOutput: 10 },
            'node_modules/@aws-sdk/types/dist-es/index.js': { bytesInOutput: 0 },
          },
        },
      },
    } as unknown as Metafile;

    // Act / Assess
    expect(sdkPackagesOf(metafile)).toEqual(['@aws-lambda-powertools/logger', '@aws-sdk/client-s3']);
  });
});
