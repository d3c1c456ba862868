import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import { afterAll, inject } from 'vitest';

/** A document client on the integration suite's DynamoDB Local (test/integration/global-setup.ts); the caller destroys it. */
export function newLocalDocumentClient(translate?: TranslateConfig): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: inject('dynamodbEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    translate,
  );
}

/** {@link newLocalDocumentClient}, destroyed after the file (or the describe block it is made in). */
export function localDocumentClient(translate?: TranslateConfig): DynamoDBDocumentClient {
  const db = newLocalDocumentClient(translate);
  afterAll(() => db.destroy());
  return db;
}
