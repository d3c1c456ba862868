import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { keys } from '#adapters/dynamo/keys.ts';
import { Table } from '#adapters/dynamo/table.ts';
import { type AuditContext, recordIntact } from '#core/audit/audit.ts';
import { ConflictError, TransientError } from '#core/errors.ts';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(db);
const table = new Table('t', { platform: db, forTenant: async () => db });
afterEach(() => mock.reset());

const audit: AuditContext = {
  tenantId: 'tabcdefghijklmnop',
  actor: { id: 'u1', type: 'user' },
  meta: { requestId: 'r1', sourceIp: '10.0.0.1', userAgent: 'ua', now: '2026-11-29T10:00:00.000Z' },
  draft: { action: 'role.create', resourceType: 'role', resourceId: 'r' },
};
const change = table.put({ pk: 'TENANT#tabcdefghijklmnop', sk: 'ROLE#r' }, 'attribute_not_exists(pk)');

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('Table.commit: the audit record is an item of its own', () => {
  it('writes the change and one new audit record in one transaction, reading nothing', async () => {
    // Prepare
    mock.on(TransactWriteCommand).resolves({});
    // Act
    await table.commit(audit, [change], () => undefined);
    // Assess
    expect(mock.commandCalls(GetCommand)).toHaveLength(0);
    expect(mock.calls()).toHaveLength(1);
    const items = mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items).toHaveLength(2);
    expect(items[0]).toEqual(change);
    const put = items[1]?.Put;
    const record = put?.Item as Record<string, unknown>;
    expect(put?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(record).toMatchObject({
      ...keys.auditRecord('tabcdefghijklmnop', String(record.id)),
      type: 'audit',
      tenantId: 'tabcdefghijklmnop',
      action: 'role.create',
      actor: { id: 'u1', type: 'user' },
    });
    const { pk: _p, sk: _s, type: _t, ...content } = record;
    expect(recordIntact(content as never)).toBe(true);
  });

  it('gives concurrent mutations of one tenant different record keys', async () => {
    // Prepare
    mock.on(TransactWriteCommand).resolves({});
    // Act
    await Promise.all(Array.from({ length: 20 }, () => table.commit(audit, [change], () => undefined)));
    // Assess
    const sks = mock
      .commandCalls(TransactWriteCommand)
      .map((c) => String(c.args[0].input.TransactItems?.[1]?.Put?.Item?.sk));
    expect(new Set(sks).size).toBe(20);
    for (const sk of sks) expect(sk).toMatch(/^REC#[0-9A-Z]{26}$/);
  });

  it('maps a failed condition on the change to the domain error, without retrying', async () => {
    // Prepare
    mock.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    const taken = new ConflictError('taken');
    // Act
    const result = table.commit(audit, [change], (i) => (i === 0 ? taken : undefined));
    // Assess
    await expect(result).rejects.toBe(taken);
    expect(mock.calls()).toHaveLength(1);
  });

  it('retries a transaction conflict with the same record, then succeeds', async () => {
    // Prepare
    mock
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('TransactionConflict', 'None'))
      .rejectsOnce(cancelled('None', 'TransactionConflict'))
      .resolves({});
    // Act
    await table.commit(audit, [change], () => undefined);
    // Assess
    const calls = mock.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(3);
    const ids = calls.map((c) => c.args[0].input.TransactItems?.[1]?.Put?.Item?.id);
    expect(new Set(ids).size).toBe(1);
  });

  it('answers 503 (TransientError) after five conflicts, and rethrows other cancellations', async () => {
    // Prepare
    mock.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None'));
    // Act
    const busy = table.commit(audit, [change], () => undefined);
    // Assess
    await expect(busy).rejects.toBeInstanceOf(TransientError);
    expect(mock.calls()).toHaveLength(5);
    mock.reset();
    mock.on(TransactWriteCommand).rejects(cancelled('None', 'ValidationError'));
    await expect(table.commit(audit, [change], () => undefined)).rejects.toBeInstanceOf(
      TransactionCanceledException,
    );
    expect(mock.calls()).toHaveLength(1);
  });
});
