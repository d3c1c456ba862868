import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { logicalId, resource, synthStage } from '../helpers/synth.ts';

describe.each(['dev', 'prod'] as const)('audit archive in %s', (stage) => {
  const { template, stack, config } = synthStage(stage);
  const bucketId = logicalId(stack, stack.auditArchive.bucket);
  const bucket = () => resource(template, bucketId).Properties;

  it('locks every object in COMPLIANCE mode for the configured days', () => {
    expect(bucket()).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: config.auditObjectLockDays } },
      },
    });
  });

  it('is retained whatever the stage', () => {
    template.templateMatches({
      Resources: { [bucketId]: { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' } },
    });
  });
});

describe('audit archive', () => {
  const { template, stack, config } = synthStage('dev');
  const bucketId = logicalId(stack, stack.auditArchive.bucket);
  const bucket = () => resource(template, bucketId).Properties;

  it('is versioned', () => {
    expect(bucket().VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('blocks all public access', () => {
    expect(bucket().PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('is encrypted with its own rotating KMS key', () => {
    const keyId = logicalId(stack, stack.auditArchive.key);
    expect(bucket().BucketEncryption).toMatchObject({
      ServerSideEncryptionConfiguration: [
        {
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
          },
        },
      ],
    });
    expect(resource(template, keyId).Properties.EnableKeyRotation).toBe(true);
  });

  it('moves current and non-current versions to Glacier after the configured days', () => {
    expect(bucket().LifecycleConfiguration).toEqual({
      Rules: [
        expect.objectContaining({
          Status: 'Enabled',
          Transitions: [{ StorageClass: 'GLACIER', TransitionInDays: config.auditGlacierTransitionDays }],
          NoncurrentVersionTransitions: [
            { StorageClass: 'GLACIER', TransitionInDays: config.auditGlacierTransitionDays },
          ],
        }),
      ],
    });
  });

  it('logs server access to the access-log bucket', () => {
    expect(bucket().LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logicalId(stack, stack.accessLogs.bucket) },
      LogFilePrefix: 'audit-archive/',
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
});
