import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  actionsOf,
  logicalId,
  type PolicyStatementJson,
  roleStatements,
  synthStage,
} from '../helpers/synth.ts';

// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, resolved by IAM, not by JavaScript
const TENANT_TAG = '${aws:PrincipalTag/TenantId}';

/** `arn:<partition>:<service>:<region>:<account><suffix>` as the template renders it. */
const regionalArn = (service: string, suffix: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      `:${service}:`,
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      suffix,
    ],
  ],
});

const STATES_ACTIONS_THE_RUNTIME_CALLS = [
  'states:CreateStateMachine',
  'states:CreateStateMachineAlias',
  'states:DeleteStateMachine',
  'states:DeleteStateMachineVersion',
  'states:DescribeStateMachineAlias',
  'states:ListStateMachineAliases',
  'states:ListStateMachineVersions',
  'states:PublishStateMachineVersion',
  'states:RedriveExecution',
  'states:SendTaskFailure',
  'states:SendTaskSuccess',
  'states:StartExecution',
  'states:StopExecution',
  'states:TagResource',
  'states:UpdateStateMachine',
  'states:UpdateStateMachineAlias',
];

describe.each(['dev', 'prod'] as const)('workflow functions in %s', (stage) => {
  const { template, stack, config } = synthStage(stage);
  const { flows } = stack;
  const functions = [
    { name: 'step runner', fn: flows.stepRunner, sizing: config.stepRunnerFunction },
    { name: 'approval handler', fn: flows.approvalHandler, sizing: config.approvalHandlerFunction },
    { name: 'status handler', fn: flows.statusHandler, sizing: config.statusHandlerFunction },
  ];

  it.each(functions)(
    '$name runs Node.js 22 on arm64 with its configured memory and timeout',
    ({ fn, sizing }) => {
      template.templateMatches({
        Resources: {
          [logicalId(stack, fn.function)]: {
            Properties: {
              Runtime: 'nodejs22.x',
              Architectures: ['arm64'],
              MemorySize: sizing.memoryMb,
              Timeout: sizing.timeout.toSeconds(),
            },
          },
        },
      });
    },
  );

  it.each(functions)(
    '$name runs outside a VPC (HTTP tools reach the internet; the SSRF guard is in code)',
    ({ fn }) => {
      template.templateMatches({
        Resources: { [logicalId(stack, fn.function)]: { Properties: { VpcConfig: Match.absent() } } },
      });
    },
  );

  it('sizes the step runner for an agent step with tool calls (1024 MB, 5 minutes)', () => {
    expect(config.stepRunnerFunction.memoryMb).toBe(1024);
    expect(config.stepRunnerFunction.timeout.toMinutes()).toBe(5);
  });
});

describe.each(['dev', 'prod'] as const)('workflow role in %s', (stage) => {
  const { template, stack } = synthStage(stage);
  const { flows } = stack;
  const roleId = logicalId(stack, flows.workflowRole);

  it('is assumable only by Step Functions acting for this account', () => {
    template.templateMatches({
      Resources: {
        [roleId]: {
          Properties: {
            AssumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'sts:AssumeRole',
                  Principal: { Service: 'states.amazonaws.com' },
                  Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
                },
              ],
            },
          },
        },
      },
    });
  });

  it('may invoke only the step runner and approval handler, unqualified or by version and alias', () => {
    const lambdaStatements = roleStatements(template, roleId).filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('lambda:')),
    );
    const functionArns = [flows.stepRunner, flows.approvalHandler].map((fn) => ({
      'Fn::GetAtt': [logicalId(stack, fn.function), 'Arn'],
    }));
    expect(lambdaStatements.flatMap(actionsOf)).toEqual(['lambda:InvokeFunction']);
    expect(lambdaStatements.flatMap((statement) => statement.Resource as unknown[])).toEqual(
      expect.arrayContaining([
        ...functionArns,
        ...functionArns.map((functionArn) => ({ 'Fn::Join': ['', [functionArn, ':*']] })),
      ]),
    );
    expect(lambdaStatements.flatMap((statement) => statement.Resource as unknown[])).toHaveLength(4);
  });

  it('may set up execution log delivery and write traces, the only statements on every resource', () => {
    const anyResource = roleStatements(template, roleId).filter((statement) => statement.Resource === '*');
    expect(anyResource.map((statement) => statement.Sid).sort()).toEqual([
      'DeliverExecutionLogs',
      'WriteTraces',
    ]);
    expect(anyResource.flatMap(actionsOf).every((action) => /^(logs|xray):/.test(action))).toBe(true);
  });
});

describe.each(['dev', 'prod'] as const)('API Step Functions permissions in %s', (stage) => {
  const { template, stack } = synthStage(stage);
  const own = roleStatements(template, logicalId(stack, stack.api.apiFunction.role));
  const tenant = roleStatements(template, logicalId(stack, stack.api.tenantDataRole));
  const isStates = (statement: PolicyStatementJson) =>
    actionsOf(statement).some((action) => action.startsWith('states:'));
  // The lifecycle jobs' machines are named outside the tenant prefix on purpose (test/infra/lifecycle.test.ts).
  const ownStates = own.filter((s) => s.Sid !== 'StartLifecycleJobs' && isStates(s));
  const tenantStates = tenant.filter(isStates);
  const statement = (sid: string): PolicyStatementJson => {
    const found = tenant.find((candidate) => candidate.Sid === sid);
    if (!found) throw new Error(`No statement ${sid} on the API's tenant data role`);
    return found;
  };
  const session = `\${aws:PrincipalTag/TenantId}`;
  const machines = regionalArn('states', `:stateMachine:meridian-${stage}-${session}-*`);
  const executions = regionalArn('states', `:execution:meridian-${stage}-${session}-*:*`);

  it('grants only the Step Functions actions the runtime calls', () => {
    expect([...ownStates, ...tenantStates].flatMap(actionsOf).sort()).toEqual(
      STATES_ACTIONS_THE_RUNTIME_CALLS,
    );
  });

  it('reaches no workflow machine with its own role: only the task-token callbacks, which have no resource', () => {
    expect(ownStates.map((s) => s.Resource)).toEqual(['*']);
    expect(ownStates.flatMap(actionsOf).sort()).toEqual(['states:SendTaskFailure', 'states:SendTaskSuccess']);
  });

  it(`scopes every other Step Functions action to the session tenant's "meridian-${stage}-<tenant>-" machines`, () => {
    expect(tenantStates.length).toBeGreaterThan(0);
    for (const candidate of tenantStates) {
      expect([machines, executions], candidate.Sid).toContainEqual(candidate.Resource);
    }
  });

  it("creates state machines only with the session tenant's TenantId tag, and no tag keys besides TenantId and WorkflowId", () => {
    expect(statement('CreateTenantStateMachines')).toEqual({
      Sid: 'CreateTenantStateMachines',
      Effect: 'Allow',
      Action: ['states:CreateStateMachine', 'states:TagResource'],
      Resource: machines,
      Condition: {
        StringEquals: { 'aws:RequestTag/TenantId': session },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['TenantId', 'WorkflowId'] },
      },
    });
  });

  it("updates, promotes and starts only state machines that carry the session tenant's TenantId tag", () => {
    expect(statement('RunTenantStateMachines')).toEqual({
      Sid: 'RunTenantStateMachines',
      Effect: 'Allow',
      Action: [
        'states:CreateStateMachineAlias',
        'states:StartExecution',
        'states:UpdateStateMachine',
        'states:UpdateStateMachineAlias',
      ],
      Resource: machines,
      Condition: { StringEquals: { 'aws:ResourceTag/TenantId': session } },
    });
  });

  it('retires versions and deletes state machines only of the session tenant', () => {
    expect(statement('RetireTenantStateMachines')).toMatchObject({
      Action: [
        'states:DeleteStateMachine',
        'states:DeleteStateMachineVersion',
        'states:DescribeStateMachineAlias',
        'states:ListStateMachineAliases',
        'states:ListStateMachineVersions',
      ],
      Resource: machines,
    });
  });

  it("stops and redrives only executions of the session tenant's state machines", () => {
    expect(statement('StopOrRedriveTenantExecutions')).toMatchObject({
      Action: ['states:RedriveExecution', 'states:StopExecution'],
      Resource: executions,
    });
  });

  it('passes the workflow role, to Step Functions, on the tenant session; the scheduler role, to Scheduler, on its own', () => {
    const passRole = (statements: PolicyStatementJson[]) =>
      statements.filter((candidate) => actionsOf(candidate).includes('iam:PassRole'));
    expect(passRole(tenant)).toEqual([
      {
        Sid: 'PassWorkflowRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [logicalId(stack, stack.flows.workflowRole), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'states.amazonaws.com' } },
      },
    ]);
    expect(passRole(own)).toEqual([
      {
        Sid: 'PassSchedulerRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [logicalId(stack, stack.schedules.schedulerRole), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ]);
  });

  it('gives the API function the five workflow settings it compiles into every workflow', () => {
    const { flows } = stack;
    template.templateMatches({
      Resources: {
        [logicalId(stack, stack.api.apiFunction.function)]: {
          Properties: {
            Environment: {
              Variables: {
                STATE_MACHINE_PREFIX: `meridian-${stage}`,
                STEP_RUNNER_ARN: { 'Fn::GetAtt': [logicalId(stack, flows.stepRunner.function), 'Arn'] },
                APPROVAL_HANDLER_ARN: {
                  'Fn::GetAtt': [logicalId(stack, flows.approvalHandler.function), 'Arn'],
                },
                WORKFLOW_ROLE_ARN: { 'Fn::GetAtt': [logicalId(stack, flows.workflowRole), 'Arn'] },
                // CloudFormation's log group `Arn` already ends in ":*", the form Step Functions wants.
                WORKFLOW_LOG_GROUP_ARN: { 'Fn::GetAtt': [logicalId(stack, flows.workflowLogGroup), 'Arn'] },
              },
            },
          },
        },
      },
    });
  });
});

describe.each(['dev', 'prod'] as const)('execution status rule in %s', (stage) => {
  const { template, stack } = synthStage(stage);
  const { flows } = stack;
  const queueArn = { 'Fn::GetAtt': [logicalId(stack, flows.statusDeadLetterQueue), 'Arn'] };

  it('matches final status changes of this stage’s state machines by ARN prefix', () => {
    template.templateMatches({
      Resources: {
        [logicalId(stack, flows.statusRule)]: {
          Properties: {
            EventPattern: {
              source: ['aws.states'],
              'detail-type': ['Step Functions Execution Status Change'],
              detail: {
                status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
                stateMachineArn: [{ prefix: regionalArn('states', `:stateMachine:meridian-${stage}-`) }],
              },
            },
          },
        },
      },
    });
  });

  it('delivers to the status handler with retries, and to the dead-letter queue when they run out', () => {
    template.templateMatches({
      Resources: {
        [logicalId(stack, flows.statusRule)]: {
          Properties: {
            Targets: [
              {
                Arn: { 'Fn::GetAtt': [logicalId(stack, flows.statusHandler.function), 'Arn'] },
                RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
                DeadLetterConfig: { Arn: queueArn },
              },
            ],
          },
        },
      },
    });
  });

  it('sends events the status handler still fails on after Lambda’s retries to the same queue', () => {
    template.templateMatches({
      Resources: {
        [logicalId(stack, flows.statusHandler.function)]: {
          Properties: { DeadLetterConfig: { TargetArn: queueArn } },
        },
      },
    });
  });

  it('encrypts the dead-letter queue with a rotating customer-managed key', () => {
    const keyId = logicalId(stack, flows.statusDeadLetterKey);
    template.templateMatches({
      Resources: {
        [logicalId(stack, flows.statusDeadLetterQueue)]: {
          Properties: { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, MessageRetentionPeriod: 1_209_600 },
        },
        [keyId]: { Properties: { EnableKeyRotation: true } },
      },
    });
  });

  it('lets EventBridge write to the dead-letter queue only from this rule, and nobody without TLS', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(stack, flows.statusDeadLetterQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: {
              ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(stack, flows.statusRule), 'Arn'] } },
            },
          }),
        ]),
      },
    });
  });
});

describe.each(['dev', 'prod'] as const)('step runner access in %s', (stage) => {
  const { template, stack } = synthStage(stage);
  const { flows } = stack;
  const runnerRoleId = logicalId(stack, flows.stepRunner.role);
  const tenantRoleId = logicalId(stack, flows.stepRunnerTenantRole);
  const runnerStatements = roleStatements(template, runnerRoleId);
  const tenantStatement = (sid: string) =>
    roleStatements(template, tenantRoleId).find((statement) => statement.Sid === sid);

  it('may assume its tenant data role with session tags, and is told which in TENANT_DATA_ROLE_ARN', () => {
    const tenantRoleArn = { 'Fn::GetAtt': [tenantRoleId, 'Arn'] };
    expect(runnerStatements).toContainEqual({
      Effect: 'Allow',
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Resource: tenantRoleArn,
    });
    template.templateMatches({
      Resources: {
        [logicalId(stack, flows.stepRunner.function)]: {
          Properties: {
            Environment: {
              Variables: { TENANT_DATA_ROLE_ARN: tenantRoleArn, SECRETS_PREFIX: `meridian/${stage}/tenants` },
            },
          },
        },
      },
    });
  });

  it('has a tenant data role only the step runner may assume, only with a TenantId session tag', () => {
    template.templateMatches({
      Resources: {
        [tenantRoleId]: {
          Properties: {
            AssumeRolePolicyDocument: {
              Statement: [
                {
                  Effect: 'Allow',
                  Action: ['sts:AssumeRole', 'sts:TagSession'],
                  Principal: { AWS: { 'Fn::GetAtt': [runnerRoleId, 'Arn'] } },
                  Condition: { Null: { 'aws:RequestTag/TenantId': 'false' } },
                },
              ],
            },
          },
        },
      },
    });
  });

  it('reads only the session tenant’s secrets, without writing or deleting them', () => {
    expect(tenantStatement('TenantSecretsOnly')).toEqual({
      Sid: 'TenantSecretsOnly',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: regionalArn('secretsmanager', `:secret:meridian/${stage}/tenants/${TENANT_TAG}/*`),
    });
  });

  it('reaches only its tenant’s own partition and executions: no audit chain, counters, slots or notifications', () => {
    const t = (suffix = '') => `TENANT#${TENANT_TAG}${suffix}`;
    const items = roleStatements(template, tenantRoleId).filter((s) =>
      String(s.Sid).startsWith('TenantItems'),
    );
    expect(items.map((s) => [s.Sid, s.Action, s.Condition])).toEqual([
      [
        'TenantItemsOnTenantExecution',
        ['DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'].map((a) => `dynamodb:${a}`),
        { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [t(), t('#EXEC#*')] } },
      ],
    ]);
    expect(tenantStatement('DenyRequestsWithoutLeadingKeys')?.Effect).toBe('Deny');
  });

  it('has no table or secret permission of its own', () => {
    const actions = runnerStatements.flatMap(actionsOf);
    expect(actions.filter((action) => /^(dynamodb|secretsmanager):/.test(action))).toEqual([]);
  });

  it('may call Bedrock Converse (bedrock:InvokeModel) on foundation models and inference profiles', () => {
    const bedrock = runnerStatements.filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('bedrock:')),
    );
    expect(bedrock).toEqual([
      {
        Sid: 'InvokeBedrockModels',
        Effect: 'Allow',
        Action: 'bedrock:InvokeModel',
        Resource: expect.arrayContaining([
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:*::foundation-model/*']] },
          regionalArn('bedrock', ':inference-profile/*'),
        ]),
      },
    ]);
  });
});

describe.each(['dev', 'prod'] as const)('workflow execution logs in %s', (stage) => {
  const { template, stack, config } = synthStage(stage);

  it('are kept for the configured retention', () => {
    template.templateMatches({
      Resources: {
        [logicalId(stack, stack.flows.workflowLogGroup)]: {
          Properties: { RetentionInDays: config.logRetention },
        },
      },
    });
  });
});
