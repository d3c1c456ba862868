import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableBase } from '#adapters/dynamo/table-base.ts';
import { TenantTableClients } from '#adapters/tenant-credentials.ts';
import {
  asAws,
  asFunction,
  NO_PARTITION,
  parseCallLog,
  recordCalls,
  tenantTargetsOf,
} from '../../../../bin/local/call-log.ts';

// Nothing listens on port 9: each send fails at once, after the log has seen it.
const ENDPOINT = 'http://127.0.0.1:9';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('the local call log', () => {
  let dir: string;
  let log: string;
  const s3 = new S3Client({ endpoint: ENDPOINT, region: 'us-east-1', credentials, maxAttempts: 1 });
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: ENDPOINT, region: 'us-east-1', credentials, maxAttempts: 1 }),
  );
  const getObject = () => s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' })).catch(() => undefined);
  const getItem = () => db.send(new GetCommand({ TableName: 't', Key: { pk: 'p' } })).catch(() => undefined);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'call-log-'));
    log = join(dir, 'calls.log');
    await recordCalls(log);
  });
  afterAll(async () => {
    s3.destroy();
    db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes each command a function sends once, as the document client names it', async () => {
    // Act
    await asFunction('api', async () => {
      await getObject();
      await getObject();
      await getItem();
    })();
    await asFunction('stepRunner', getObject)();
    // Assess
    expect(parseCallLog(await readFile(log, 'utf8'))).toEqual([
      { fn: 'api', command: 'GetObjectCommand', files: [], targets: [], session: '-' },
      { fn: 'api', command: 'GetCommand', files: [], targets: [], session: 'platform' },
      { fn: 'stepRunner', command: 'GetObjectCommand', files: [], targets: [], session: '-' },
    ]);
  });

  it('leaves out calls outside any function, and what AWS does itself', async () => {
    // Arrange
    const before = await readFile(log, 'utf8');
    // Act
    await getItem();
    await asFunction('authorizer', () => asAws(getItem))();
    // Assess
    expect(await readFile(log, 'utf8')).toBe(before);
  });

  it('follows the function into work it started', async () => {
    // Act
    await asFunction('lifecycle', () => new Promise((done) => setTimeout(() => done(getItem()), 1)))();
    // Assess
    expect(parseCallLog(await readFile(log, 'utf8')).at(-1)).toEqual({
      fn: 'lifecycle',
      command: 'GetCommand',
      files: [],
      targets: [],
      session: 'platform',
    });
  });

  it('names the files under functions/ that the send came through, and the session it went on', async () => {
    // Arrange: locally forTenant hands out the platform's client, which the log sees as a tenant's view.
    const [own, other] = ['tcalllogaaaaaaaaa', 'tcalllogbbbbbbbbb'];
    const table = new TableBase('t', new TenantTableClients(db, undefined));
    const read = (tenant: string, pk: string) =>
      asFunction('authorizer', () => table.get(tenant, { pk, sk: 's' }).catch(() => undefined))();
    const last = async () => parseCallLog(await readFile(log, 'utf8')).at(-1);
    // Act & Assess
    await read(own, `TENANT#${own}#AUDIT`);
    expect(await last()).toEqual({
      fn: 'authorizer',
      command: 'GetCommand',
      files: ['functions/adapters/dynamo/table-base.ts'],
      targets: ['GetItem@auditItem'],
      session: 'tenant',
    });
    await read(own, `TENANT#${other}#AUDIT`);
    expect((await last())?.session).toBe('outside');
    await read(own, 'SSODOMAIN#example.com');
    expect((await last())?.session).toBe('outside');
    await asFunction('authorizer', () =>
      table.clients.platform
        .send(new GetCommand({ TableName: 't', Key: { pk: 'X', sk: 'Y' } }))
        .catch(() => undefined),
    )();
    expect((await last())?.session).toBe('platform');
  });

  it('sorts the tenant partitions a request names into targets, and flags one of none', () => {
    // Arrange
    const t = 'tcalllog1aaaaaaaa';
    const transaction = new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: 'x', Item: { pk: `TENANT#${t}`, sk: 'USER#1' } } },
        {
          Update: {
            TableName: 'x',
            Key: { pk: `TENANT#${t}#EXEC#x1`, sk: 'META' },
            UpdateExpression: 'SET a = :a',
          },
        },
        {
          ConditionCheck: {
            TableName: 'x',
            Key: { pk: `TENANT#${t}#NEW`, sk: 'X' },
            ConditionExpression: 'a',
          },
        },
      ],
    });
    const batch = new BatchWriteCommand({
      RequestItems: {
        x: [
          { DeleteRequest: { Key: { pk: `TENANT#${t}#RATE#7`, sk: 'C' } } },
          { PutRequest: { Item: { pk: 'SSODOMAIN#example.com', sk: 'CLAIM' } } },
        ],
      },
    });
    const indexQuery = new QueryCommand({
      TableName: 'x',
      IndexName: 'gsi1',
      KeyConditionExpression: '#g = :g AND begins_with(gsi1sk, :s)',
      ExpressionAttributeNames: { '#g': 'gsi1pk' },
      ExpressionAttributeValues: { ':g': `TENANT#${t}#APPROVALS#PENDING`, ':s': 'A' },
    });
    const query = new QueryCommand({
      TableName: 'x',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `TENANT#${t}#NOTIFY` },
    });
    const batchGet = new BatchGetCommand({
      RequestItems: { x: { Keys: [{ pk: `TENANT#${t}#RUNNING`, sk: 'S0' }] } },
    });
    // Act & Assess
    expect(tenantTargetsOf(transaction)).toEqual([
      'ConditionCheckItem@TENANT#?',
      'PutItem@tenantItem',
      'UpdateItem@executionItem',
    ]);
    expect(tenantTargetsOf(batch)).toEqual(['BatchWriteItem@rateCounterItem']);
    expect(tenantTargetsOf(indexQuery)).toEqual(['Query@tenantIndex']);
    expect(tenantTargetsOf(query)).toEqual(['Query@notificationItem']);
    expect(tenantTargetsOf(batchGet)).toEqual(['BatchGetItem@runSlotItem']);
    expect(tenantTargetsOf(new GetObjectCommand({ Bucket: 'b', Key: 'k' }))).toEqual([]);
  });

  it('reads a key condition either way round, and flags a table request whose partition it cannot name', () => {
    // Arrange
    const flipped = new QueryCommand({
      TableName: 'x',
      KeyConditionExpression: ':p = #k',
      ExpressionAttributeNames: { '#k': 'pk' },
      ExpressionAttributeValues: { ':p': 'TENANT#tcalllog1aaaaaaaa#AUDIT' },
    });
    const otherIndex = new QueryCommand({
      TableName: 'x',
      IndexName: 'gsi9',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': 'TENANT#tcalllog1aaaaaaaa#EXECS' },
    });
    // Act & Assess
    expect(tenantTargetsOf(flipped)).toEqual(['Query@auditItem']);
    expect(tenantTargetsOf(otherIndex)).toEqual([`Query@${NO_PARTITION}`]);
    expect(tenantTargetsOf(new ScanCommand({ TableName: 'x' }))).toEqual([`Scan@${NO_PARTITION}`]);
    expect(tenantTargetsOf(new QueryCommand({ TableName: 'x', KeyConditions: {} }))).toEqual([
      `Query@${NO_PARTITION}`,
    ]);
    expect(
      tenantTargetsOf(new GetCommand({ TableName: 'x', Key: { pk: 'SSODOMAIN#a.b', sk: 'CLAIM' } })),
    ).toEqual([]);
  });
});
