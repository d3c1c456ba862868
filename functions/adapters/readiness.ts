import { DescribeUserPoolCommand } from '@aws-sdk/client-cognito-identity-provider';
import { GetBucketLocationCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ReadinessProbe } from '#core/platform/readiness.ts';
import type { Settings } from '#shared/config.ts';
import { cognitoClient, dynamoDocumentClient, s3Client } from './aws-clients.ts';

/** The API's dependencies, each asked the cheapest question it answers. */
export function readinessProbes(
  cfg: Settings<'TABLE_NAME' | 'AUDIT_BUCKET_NAME' | 'USER_POOL_ID'>,
): ReadinessProbe[] {
  return [
    {
      name: 'table',
      check: () =>
        dynamoDocumentClient().send(
          new GetCommand({ TableName: cfg.TABLE_NAME, Key: { pk: 'HEALTH', sk: 'HEALTH' } }),
        ),
    },
    {
      // GetBucketLocation, not HeadBucket: HeadBucket is authorized as s3:ListBucket, which would let
      // the API's own role list every tenant's archive keys.
      name: 'bucket',
      check: () => s3Client().send(new GetBucketLocationCommand({ Bucket: cfg.AUDIT_BUCKET_NAME })),
    },
    {
      name: 'identity',
      check: () => cognitoClient().send(new DescribeUserPoolCommand({ UserPoolId: cfg.USER_POOL_ID })),
    },
  ];
}
