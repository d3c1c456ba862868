import { Capture, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { logicalId, synthStage } from '../helpers/synth.ts';

describe('telemetry', () => {
  const { template, stack } = synthStage('prod');
  const topicRef = { Ref: logicalId(stack, stack.telemetry.alarmTopic) };
  const apiRef = { Ref: logicalId(stack, stack.api.httpApi) };
  const stepRunnerRef = { Ref: logicalId(stack, stack.flows.stepRunner.function) };
  const statusHandlerRef = { Ref: logicalId(stack, stack.flows.statusHandler.function) };

  it('encrypts the alarm topic with a rotating customer-managed key', () => {
    const key = new Capture();
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    template.templateMatches({
      Resources: { [key.asString()]: { Properties: { EnableKeyRotation: true } } },
    });
  });

  it('lets CloudWatch use the topic key to publish alarms', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('refuses publishing to the alarm topic without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('alarms when more than 1% of API requests fail with 5xx over 5 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests > 0, 100 * errors / requests, 0)', ReturnData: true }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: {
              MetricName: '5xx',
              Namespace: 'AWS/ApiGateway',
              Dimensions: [{ Name: 'ApiId', Value: apiRef }],
            },
            Period: 300,
            Stat: 'Sum',
          }),
        }),
        Match.objectLike({
          Id: 'requests',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Count' }), Period: 300 }),
        }),
      ]),
      AlarmActions: [topicRef],
    });
  });

  it('alarms on API p99 latency above the configured threshold', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Latency',
      Namespace: 'AWS/ApiGateway',
      ExtendedStatistic: 'p99',
      Threshold: stack.config.apiLatencyP99AlarmMs,
      AlarmActions: [topicRef],
    });
  });

  it.each([
    ['authorizer', () => stack.api.authorizerFunction.function],
    ['API', () => stack.api.apiFunction.function],
  ] as const)('alarms on %s function errors', (_name, fn) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, fn()) } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      AlarmActions: [topicRef],
    });
  });

  it('alarms on throttles of either function', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'apiThrottles + authorizerThrottles' }),
        Match.objectLike({
          Id: 'apiThrottles',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Throttles' }) }),
        }),
      ]),
      AlarmActions: [topicRef],
    });
  });

  it('alarms on the execution failure rate from the status handler’s EMF counts', () => {
    const metrics = new Capture();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: stack.config.executionFailureRateAlarmPercent,
      AlarmDescription: Match.stringLikeRegexp('workflow executions failed or timed out'),
      Metrics: metrics,
      AlarmActions: [topicRef],
    });
    const statusMetric = (id: string, status: string) =>
      expect.objectContaining({
        Id: id,
        MetricStat: expect.objectContaining({
          Metric: {
            Namespace: 'Meridian',
            MetricName: `Execution${status}`,
            Dimensions: [{ Name: 'service', Value: 'meridian-status-handler' }],
          },
          Period: 300,
          Stat: 'Sum',
        }),
      });
    expect(metrics.asArray()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Expression: 'IF(finished > 0, 100 * (FILL(failed, 0) + FILL(timedOut, 0)) / finished, 0)',
          ReturnData: true,
        }),
        expect.objectContaining({
          Id: 'finished',
          Expression: 'FILL(succeeded, 0) + FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
        }),
        statusMetric('succeeded', 'SUCCEEDED'),
        statusMetric('failed', 'FAILED'),
        statusMetric('timedOut', 'TIMED_OUT'),
        statusMetric('aborted', 'ABORTED'),
      ]),
    );
  });

  it('alarms on the share of step runs that failed (StepFailed over invocations)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: stack.config.stepFailureRateAlarmPercent,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(invocations > 0, 100 * FILL(stepFailed, 0) / invocations, 0)' }),
        Match.objectLike({
          Id: 'stepFailed',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'Meridian',
              MetricName: 'StepFailed',
              Dimensions: [{ Name: 'service', Value: 'meridian-step-runner' }],
            },
          }),
        }),
        Match.objectLike({
          Id: 'invocations',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Invocations',
              Dimensions: [{ Name: 'FunctionName', Value: stepRunnerRef }],
            },
          }),
        }),
      ]),
    });
  });

  it('alarms when a step run takes over 90% of the step runner timeout (timeouts emit no StepFailed)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Statistic: 'Maximum',
      Dimensions: [{ Name: 'FunctionName', Value: stepRunnerRef }],
      Threshold: stack.config.stepRunnerFunction.timeout.toMilliseconds() * 0.9,
    });
  });

  it('alarms on errors of the approval and status handlers', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(approvalErrors, 0) + FILL(statusErrors, 0)' }),
        Match.objectLike({
          Id: 'statusErrors',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Errors',
              Dimensions: [{ Name: 'FunctionName', Value: statusHandlerRef }],
            },
          }),
        }),
      ]),
    });
  });

  it('alarms on throttles of any workflow function', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({
          Expression: 'FILL(stepRunnerThrottles, 0) + FILL(approvalThrottles, 0) + FILL(statusThrottles, 0)',
        }),
        Match.objectLike({
          Id: 'stepRunnerThrottles',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'Throttles',
              Dimensions: [{ Name: 'FunctionName', Value: stepRunnerRef }],
            }),
          }),
        }),
      ]),
    });
  });

  it('alarms when a tenant reaches a budget alert threshold (the step runner’s EMF count)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Meridian',
      MetricName: 'BudgetThresholdReached',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'service', Value: Match.anyValue() }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      AlarmActions: [topicRef],
    });
  });

  it('alarms as soon as a status event waits in the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack, stack.flows.statusDeadLetterQueue), 'QueueName'] },
        },
      ],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      AlarmActions: [topicRef],
    });
  });

  it('notifies the topic from every alarm, on alarm and on recovery', () => {
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [topicRef],
      OKActions: [topicRef],
    });
  });

  it('treats missing data as not breaching', () => {
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { TreatMissingData: 'notBreaching' });
  });

  it('has a dashboard with the API, workflow and Lambda widgets', () => {
    const body = new Capture();
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardBody: body });
    const rendered = JSON.stringify(body.asObject());
    for (const title of [
      'API requests and errors',
      'API latency (ms)',
      'Lambda invocations and errors',
      'Lambda duration p99 (ms)',
      'Lambda throttles',
      'Workflow executions',
      'Workflow steps',
      'Undelivered status events',
      'Alarms',
    ]) {
      expect(rendered).toContain(title);
    }
  });
});

describe('alarm e-mail', () => {
  it('subscribes the configured address', () => {
    const { template } = synthStage('prod', { alarmEmail: 'ops@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('subscribes nobody by default', () => {
    synthStage('prod').template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('stack outputs', () => {
  const { template } = synthStage('dev');

  it.each([
    'ApiUrl',
    'UserPoolId',
    'UserPoolClientId',
    'HostedLoginUrl',
    'TableName',
    'AuditBucketName',
    'ArtifactsBucketName',
    'WorkflowLogGroupName',
    'StatusDeadLetterQueueUrl',
  ])('exports %s', (name) => {
    template.hasOutput(name, { Value: Match.anyValue() });
  });

  it('points HostedLoginUrl at the login page with the code flow and first callback URL', () => {
    const url = new Capture();
    template.hasOutput('HostedLoginUrl', { Value: { 'Fn::Join': ['', url] } });
    const parts = url.asArray();
    expect(parts.at(-1)).toBe('&response_type=code&redirect_uri=http://localhost:3000/auth/callback');
    expect(parts).toContain('.amazoncognito.com/login?client_id=');
  });
});
