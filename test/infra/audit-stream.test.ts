import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { logicalId, synthStage } from '../helpers/synth.ts';

describe.each(['dev', 'prod'] as const)('audit stream consumer in %s', (stage) => {
  const { template, stack } = synthStage(stage);
  const fnId = logicalId(stack, stack.auditStream.consumer.function);
  const keyId = logicalId(stack, stack.auditStream.signingKey);

  it('reads the table stream, inserted audit records only, one batch per shard within the digest interval', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, stack.storage.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      MaximumBatchingWindowInSeconds: 60,
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: false,
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { NewImage: { type: { S: ['audit'] } } },
            }),
          },
        ],
      },
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('signs with a retained asymmetric ECC P-256 KMS key, which the consumer may only sign with and the API may read the public key of', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
      DeletionPolicy: 'Retain',
    });
    const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Action: 'kms:Sign', Effect: 'Allow', Resource: keyArn }]),
      },
      Roles: [{ Ref: logicalId(stack, stack.auditStream.consumer.role) }],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Action: 'kms:GetPublicKey', Effect: 'Allow', Resource: keyArn }]),
      },
      Roles: [{ Ref: logicalId(stack, stack.api.apiFunction.role) }],
    });
  });

  it('tells the consumer and the API which key signs, and the consumer the interval and table retention', () => {
    const fn = template.findResources('AWS::Lambda::Function')[fnId]?.Properties as {
      Environment: { Variables: Record<string, unknown> };
    };
    expect(fn.Environment.Variables).toMatchObject({
      AUDIT_SIGNING_KEY_ARN: { 'Fn::GetAtt': [keyId, 'Arn'] },
      AUDIT_DIGEST_INTERVAL_SECONDS: '60',
      AUDIT_TABLE_RETENTION_DAYS: '30',
      AUDIT_BUCKET_NAME: { Ref: logicalId(stack, stack.auditArchive.bucket) },
    });
  });
});
