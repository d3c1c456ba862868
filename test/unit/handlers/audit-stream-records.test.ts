import type { DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { auditRecordsOf } from '#handlers/audit-stream.ts';

/** One INSERT stream record with `image` as its new image. */
function insert(image: Record<string, unknown>): DynamoDBStreamEvent['Records'][number] {
  return { eventName: 'INSERT', dynamodb: { NewImage: image } } as DynamoDBStreamEvent['Records'][number];
}

describe('the audit stream consumer reads', () => {
  it('only inserted audit items, and skips other items without reading them', () => {
    // Prepare: a rate counter item whose image has a value no unmarshaller can read
    const records = auditRecordsOf({
      Records: [
        insert({ pk: { S: 'TENANT#t#RATE#1' }, sk: { S: 'c' }, type: { S: 'rate' }, odd: {} }),
        insert({ pk: { S: 'TENANT#t#AUDIT' }, sk: { S: 'REC#1' }, type: { S: 'audit' }, id: { S: '1' } }),
        { ...insert({ type: { S: 'audit' }, id: { S: '2' } }), eventName: 'MODIFY' },
      ],
    });
    // Assess
    expect(records).toEqual([{ id: '1' }]);
  });

  it('an audit item with a typeless value (as DynamoDB Local streams some), as null', () => {
    // Act
    const records = auditRecordsOf({
      Records: [
        insert({
          type: { S: 'audit' },
          id: { S: '3' },
          after: { M: { flag: {}, list: { L: [{}, { N: '2' }] } } },
        }),
      ],
    });
    // Assess
    expect(records).toEqual([{ id: '3', after: { flag: null, list: [null, 2] } }]);
  });
});
