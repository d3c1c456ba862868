import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RETENTION_CLASSES, RETENTION_TAG, retentionClass } from '#shared/retention-classes.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import { logicalId, resource, synthStage } from '../helpers/synth.ts';

describe('single table', () => {
  const { template, stack } = synthStage('dev');

  it('takes its key schema from TABLE_SCHEMA', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
    });
  });

  it('defines every key attribute as a string', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      AttributeDefinitions: Match.arrayEquals(
        [
          TABLE_SCHEMA.partitionKey,
          TABLE_SCHEMA.sortKey,
          TABLE_SCHEMA.gsi1.partitionKey,
          TABLE_SCHEMA.gsi1.sortKey,
        ].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      ),
    });
  });

  it('has the gsi1 index from TABLE_SCHEMA projecting all attributes', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
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
    });
  });

  it('expires items by the TTL attribute from TABLE_SCHEMA', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
    });
  });

  it('bills on demand', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST' });
  });

  it('has point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('streams new and old images', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('is encrypted with its own customer-managed key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, stack.storage.tableKey), 'Arn'] },
      },
    });
  });

  it('rotates its key', () => {
    expect(resource(template, logicalId(stack, stack.storage.tableKey)).Properties.EnableKeyRotation).toBe(
      true,
    );
  });
});

describe.each([
  { stage: 'dev' as const, protectedFromDeletion: false, policy: 'Delete' },
  { stage: 'prod' as const, protectedFromDeletion: true, policy: 'Retain' },
])('single table in $stage', ({ stage, protectedFromDeletion, policy }) => {
  const { template, stack } = synthStage(stage);

  it(`has deletion protection ${protectedFromDeletion ? 'on' : 'off'}`, () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      DeletionProtectionEnabled: protectedFromDeletion,
    });
  });

  it(`has removal policy ${policy}`, () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: policy, UpdateReplacePolicy: policy });
  });

  it(`gives the table key removal policy ${policy}`, () => {
    template.templateMatches({
      Resources: { [logicalId(stack, stack.storage.tableKey)]: { DeletionPolicy: policy } },
    });
  });
});

describe('artifacts bucket', () => {
  const { template, stack } = synthStage('dev');
  const bucketId = logicalId(stack, stack.storage.artifactsBucket);
  const bucket = () => resource(template, bucketId).Properties;

  it('is encrypted with its own KMS key', () => {
    expect(bucket().BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(stack, stack.storage.artifactsKey), 'Arn'] },
          },
        },
      ],
    });
  });

  it('blocks all public access', () => {
    expect(bucket().PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('is versioned', () => {
    expect(bucket().VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('expires non-current versions after the configured days', () => {
    const rules = (bucket().LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules[0]).toEqual(
      expect.objectContaining({
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: stack.config.artifactsNoncurrentVersionDays },
      }),
    );
  });

  it('expires execution artifacts by their retention tag, one rule per class, and nothing untagged', () => {
    const rules = (bucket().LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    const retention = rules.filter((rule) => rule.ExpirationInDays !== undefined);
    expect(retention).toEqual(
      RETENTION_CLASSES.map((days) => ({
        Id: `ExpireExecutionArtifacts${days}Days`,
        Status: 'Enabled',
        ExpirationInDays: days,
        TagFilters: [{ Key: RETENTION_TAG, Value: String(days) }],
      })),
    );
    // A tenant's days are rounded up to a class: an artifact never goes before its execution.
    expect(retentionClass(8)).toBe(14);
    expect(retentionClass(7)).toBe(7);
    expect(retentionClass(4000)).toBe(3650);
  });

  it('logs server access to the access-log bucket', () => {
    expect(bucket().LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logicalId(stack, stack.accessLogs.bucket) },
      LogFilePrefix: 'artifacts/',
    });
  });

  it('denies requests without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('is retained even in dev', () => {
    template.templateMatches({ Resources: { [bucketId]: { DeletionPolicy: 'Retain' } } });
  });
});

describe('access-log bucket', () => {
  const { template, stack } = synthStage('dev');
  const bucketId = logicalId(stack, stack.accessLogs.bucket);

  it('lets only the S3 logging service of its own source buckets write', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith(
          [stack.storage.artifactsBucket, stack.auditArchive.bucket].map((source) =>
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'logging.s3.amazonaws.com' },
              Action: 's3:PutObject',
              Condition: Match.objectLike({
                ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(stack, source), 'Arn'] } },
              }),
            }),
          ),
        ),
      },
    });
  });

  it('uses bucket-owner-enforced ownership (no ACLs)', () => {
    expect(resource(template, bucketId).Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    });
  });
});
