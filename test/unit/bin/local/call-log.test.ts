import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableBase } from '#adapters/dynamo/table-base.ts';
import { asAws, asFunction, parseCallLog, recordCalls } from '../../../../bin/local/call-log.ts';

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
    recordCalls(log);
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
      { fn: 'api', command: 'GetObjectCommand', files: [] },
      { fn: 'api', command: 'GetCommand', files: [] },
      { fn: 'stepRunner', command: 'GetObjectCommand', files: [] },
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
    });
  });

  it('names the files under functions/ that the send came through, across awaits', async () => {
    // Arrange
    const table = new TableBase('t', { platform: db, forTenant: async () => db });
    // Act
    await asFunction('authorizer', () => table.get('t1', { pk: 'p', sk: 's' }).catch(() => undefined))();
    // Assess
    expect(parseCallLog(await readFile(log, 'utf8')).at(-1)).toEqual({
      fn: 'authorizer',
      command: 'GetCommand',
      files: ['functions/adapters/dynamo/table-base.ts'],
    });
  });
});
