import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import { tenantItemActions } from '../../lib/aws-calls.ts';
import { logicalId, synthStage } from '../helpers/synth.ts';

// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, resolved by IAM, not by JavaScript
const TENANT_TAG = '${aws:PrincipalTag/TenantId}';

// The API's item actions, from the one list of AWS calls (lib/aws-calls.ts).
const ITEM_ACTIONS = tenantItemActions('api');

describe.each(['dev', 'prod'] as const)('tenant data role in %s', (stage) => {
  const { template, stack } = synthStage(stage);
  const roleId = logicalId(stack, stack.api.tenantDataRole);
  const tableId = logicalId(stack, stack.storage.table);
  const tableArns = [
    { 'Fn::GetAtt': [tableId, 'Arn'] },
    { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, `/index/${TABLE_SCHEMA.gsi1.indexName}`]] },
  ];
  const hasStatement = (statement: Record<string, unknown>) =>
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike(statement)]) },
    });

  it('trusts only the API function role, only with a TenantId session tag', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Principal: { AWS: { 'Fn::GetAtt': [logicalId(stack, stack.api.apiFunction.role), 'Arn'] } },
            Condition: { Null: { 'aws:RequestTag/TenantId': 'false' } },
          },
        ],
      },
    });
  });

  it("allows each item action only on the tenant's own partitions its calls reach (LeadingKeys)", () => {
    const t = (suffix = '') => `TENANT#${TENANT_TAG}${suffix}`;
    const grants: [string, string[], string[]][] = [
      ['TenantItemsOnTenantExecution', ['BatchGetItem'], [t(), t('#EXEC#*')]],
      // Audit records are put, never deleted, by the API.
      [
        'TenantItemsOnTenantExecutionRunSlotNotification',
        ['DeleteItem'],
        [t(), t('#EXEC#*'), t('#RUNNING'), t('#NOTIFY')],
      ],
      [
        'TenantItemsOnTenantExecutionAuditRunSlotNotification',
        ['PutItem'],
        [t(), t('#EXEC#*'), t('#AUDIT'), t('#RUNNING'), t('#NOTIFY')],
      ],
      [
        'TenantItemsOnTenantExecutionAuditNotification',
        ['GetItem'],
        [t(), t('#EXEC#*'), t('#AUDIT'), t('#NOTIFY')],
      ],
      [
        'TenantItemsOnTenantExecutionAuditRunSlotTenantIndexNotification',
        ['Query'],
        [t(), t('#EXEC#*'), t('#AUDIT'), t('#RUNNING'), t('#EXECS'), t('#APPROVALS#*'), t('#NOTIFY')],
      ],
      // No Update on the audit chain: only the authorizer records auth events there.
      ['TenantItemsOnTenantExecutionRateCounter', ['UpdateItem'], [t(), t('#EXEC#*'), t('#RATE#*')]],
    ];
    for (const [sid, actions, partitions] of grants) {
      hasStatement({
        Sid: sid,
        Effect: 'Allow',
        Action: actions.length === 1 ? `dynamodb:${actions[0]}` : actions.map((a) => `dynamodb:${a}`),
        Resource: tableArns,
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': partitions } },
      });
    }
    // No blanket `TENANT#<t>#*`: a partition no call reaches stays out of reach.
    const leading = JSON.stringify(template.toJSON()).match(/TENANT#\$\{aws:PrincipalTag\/TenantId\}#\*"/g);
    expect(leading).toBeNull();
    expect(grants.flatMap(([, actions]) => actions.map((a) => `dynamodb:${a}`)).sort()).toEqual(ITEM_ACTIONS);
  });

  it('denies requests that name no partition key (Scan)', () => {
    hasStatement({
      Sid: 'DenyRequestsWithoutLeadingKeys',
      Effect: 'Deny',
      Action: [...ITEM_ACTIONS, 'dynamodb:Scan'].sort(),
      Resource: tableArns,
      Condition: { Null: { 'dynamodb:LeadingKeys': 'true' } },
    });
  });

  it('uses the table key only through DynamoDB', () => {
    hasStatement({
      Sid: 'TableKeyThroughDynamoDb',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [logicalId(stack, stack.storage.tableKey), 'Arn'] },
      Condition: {
        StringEquals: {
          'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        },
      },
    });
  });

  it("reaches only the tenant's own secrets path (principal tag)", () => {
    hasStatement({
      Sid: 'TenantSecretsOnly',
      Effect: 'Allow',
      Action: [
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:RestoreSecret',
        'secretsmanager:TagResource',
      ],
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':secretsmanager:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            `:secret:meridian/${stage}/tenants/${TENANT_TAG}/*`,
          ],
        ],
      },
    });
  });

  it("has no statement besides those four, the tenant artifacts (and their listing), the tenant digests and the tenant's workflow machines", () => {
    const policies = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }),
    );
    const sids = policies.flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Sid?: string }[]).map((statement) => statement.Sid),
    );
    expect(sids.sort()).toEqual([
      'ArtifactKeyThroughS3',
      'AuditKeyThroughS3',
      'CreateTenantStateMachines',
      'DenyRequestsWithoutLeadingKeys',
      'PassWorkflowRole',
      'PublishTenantWorkflowVersions',
      'RetireTenantStateMachines',
      'RunTenantStateMachines',
      'StopOrRedriveTenantExecutions',
      'TableKeyThroughDynamoDb',
      'TenantArtifactsListing',
      'TenantArtifactsOnly',
      'TenantDigestsListing',
      'TenantDigestsOnly',
      'TenantItemsOnTenantExecution',
      'TenantItemsOnTenantExecutionAuditNotification',
      'TenantItemsOnTenantExecutionAuditRunSlotNotification',
      'TenantItemsOnTenantExecutionAuditRunSlotTenantIndexNotification',
      'TenantItemsOnTenantExecutionRateCounter',
      'TenantItemsOnTenantExecutionRunSlotNotification',
      'TenantSecretsOnly',
    ]);
  });

  it('may be assumed (with session tags) by the API function', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(stack, stack.api.apiFunction.role) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Resource: { 'Fn::GetAtt': [roleId, 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('is not assumable by the authorizer, which has a tenant role of its own', () => {
    const authorizerPolicies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: logicalId(stack, stack.api.authorizerFunction.role) }] },
    });
    const text = JSON.stringify(authorizerPolicies);
    expect(text).toContain(logicalId(stack, stack.api.authorizerTenantRole));
    expect(text).not.toContain(roleId);
  });
});
