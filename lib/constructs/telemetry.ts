import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  type Metric,
  type MetricOptions,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FinalExecutionStatus } from './flows.ts';

/** What {@link Telemetry} watches of workflow execution; `Flows` implements it. */
export interface WorkflowMonitoring {
  /** The Lambda behind agent and tool steps. */
  readonly stepRunnerFunction: IFunction;
  /** The step runner's timeout: its duration alarm fires close to it. */
  readonly stepRunnerTimeout: Duration;
  /** The Lambda behind approval steps. */
  readonly approvalHandlerFunction: IFunction;
  /** The Lambda that records final execution statuses. */
  readonly statusHandlerFunction: IFunction;
  /** Status events that could not be delivered or processed. */
  readonly statusDeadLetterQueue: IQueue;
  /** Count of executions that ended with `status` (an EMF metric of the status handler). */
  metricExecutions(status: FinalExecutionStatus, props?: MetricOptions): Metric;
  /** Count of failed step runs (an EMF metric of the step runner). */
  metricStepFailures(props?: MetricOptions): Metric;
  /** Count of tenant budget thresholds reached (an EMF metric of the step runner). */
  metricBudgetThresholds(props?: MetricOptions): Metric;
}

/** Properties of {@link Telemetry}. */
export interface TelemetryProps {
  /** The HTTP API to watch (5xx rate, latency). */
  readonly httpApi: IHttpApi;
  /** The API function (errors, throttles, duration). */
  readonly apiFunction: IFunction;
  /** The authorizer function (errors, throttles, duration). */
  readonly authorizerFunction: IFunction;
  /** p99 latency, in milliseconds, above which the latency alarm fires. */
  readonly latencyP99ThresholdMs: number;
  /** Workflow execution: its functions, status dead-letter queue and EMF metrics. */
  readonly workflows: WorkflowMonitoring;
  /** Percentage of finished executions that failed or timed out above which the alarm fires. */
  readonly executionFailureRatePercent: number;
  /** Percentage of step runner invocations that failed above which the alarm fires. */
  readonly stepFailureRatePercent: number;
  /**
   * Address subscribed to the alarm topic (the recipient must confirm the subscription).
   * @default - no subscription; subscribe a pager or chat integration to the topic yourself
   */
  readonly alarmEmail?: string;
  /** Removal policy of the topic's key. */
  readonly removalPolicy: RemovalPolicy;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * What an operator watches: alarms on API 5xx rate and p99 latency, function errors and throttles,
 * workflow execution and step failure rates, step runner durations near its timeout and undelivered
 * status events, all publishing to one encrypted SNS topic, and a dashboard with the API, workflow
 * and Lambda graphs.
 *
 * Workflow state machines are created at run time, one per tenant workflow, so the per-machine
 * `AWS/States` metrics cannot be named here; the execution failure rate comes from the status
 * handler's EMF metrics (`Meridian` / `Execution<STATUS>`), which count every machine of the stage.
 */
export class Telemetry extends Construct {
  /** The topic every alarm notifies. */
  readonly alarmTopic: Topic;
  /** Every alarm, in dashboard order. */
  readonly alarms: readonly Alarm[];
  /** The operations dashboard. */
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: TelemetryProps) {
    super(scope, id);
    if (!(props.latencyP99ThresholdMs > 0)) {
      throw new Error(
        `${this.node.path}: latencyP99ThresholdMs must be a positive number of milliseconds, received ${props.latencyP99ThresholdMs}`,
      );
    }
    for (const key of ['executionFailureRatePercent', 'stepFailureRatePercent'] as const) {
      if (!(props[key] > 0 && props[key] <= 100)) {
        throw new Error(`${this.node.path}: ${key} must be above 0 and at most 100, received ${props[key]}`);
      }
    }

    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Meridian alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    // CloudWatch publishes alarm notifications itself; without these it cannot write to an encrypted topic.
    const sourceAccount = { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } };
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: sourceAccount,
      }),
    );
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Meridian alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy (created for enforceSSL) replaces SNS's default one, which let the account's
    // services publish: without this statement CloudWatch could not deliver a single alarm.
    // The source account stops another account's alarms from publishing here (confused deputy).
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: sourceAccount,
      }),
    );
    if (props.alarmEmail !== undefined) {
      const subscription = this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An e-mail subscription to the alarm topic: a dead-letter queue for undeliverable alarm mail would itself need watching, and every alarm stays visible on the dashboard and in CloudWatch.',
      });
    }

    const { httpApi, apiFunction, authorizerFunction, workflows } = props;
    const api5xxRate = new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: {
        errors: httpApi.metricServerError({ period: FIVE_MINUTES, statistic: Stats.SUM }),
        requests: httpApi.metricCount({ period: FIVE_MINUTES, statistic: Stats.SUM }),
      },
      period: FIVE_MINUTES,
      label: 'API 5xx (% of requests)',
    });
    const throttles = new MathExpression({
      expression: 'apiThrottles + authorizerThrottles',
      usingMetrics: {
        apiThrottles: apiFunction.metricThrottles({ period: FIVE_MINUTES, statistic: Stats.SUM }),
        authorizerThrottles: authorizerFunction.metricThrottles({
          period: FIVE_MINUTES,
          statistic: Stats.SUM,
        }),
      },
      period: FIVE_MINUTES,
      label: 'Lambda throttles',
    });

    const sum = { period: FIVE_MINUTES, statistic: Stats.SUM };
    const executions = {
      succeeded: workflows.metricExecutions('SUCCEEDED', sum),
      failed: workflows.metricExecutions('FAILED', sum),
      timedOut: workflows.metricExecutions('TIMED_OUT', sum),
      aborted: workflows.metricExecutions('ABORTED', sum),
    };
    // EMF metrics exist only for periods with events: FILL turns a missing count into 0. Cancelled
    // (ABORTED) executions count as finished, not failed: someone chose to stop them.
    const executionFailureRate = new MathExpression({
      expression: 'IF(finished > 0, 100 * (FILL(failed, 0) + FILL(timedOut, 0)) / finished, 0)',
      usingMetrics: {
        failed: executions.failed,
        timedOut: executions.timedOut,
        finished: new MathExpression({
          expression: 'FILL(succeeded, 0) + FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
          usingMetrics: executions,
          period: FIVE_MINUTES,
          label: 'Executions finished',
        }),
      },
      period: FIVE_MINUTES,
      label: 'Execution failures (% of finished)',
    });
    const stepRunner = workflows.stepRunnerFunction;
    const stepFailureRate = new MathExpression({
      expression: 'IF(invocations > 0, 100 * FILL(stepFailed, 0) / invocations, 0)',
      usingMetrics: {
        stepFailed: workflows.metricStepFailures(sum),
        invocations: stepRunner.metricInvocations(sum),
      },
      period: FIVE_MINUTES,
      label: 'Step failures (% of step runs)',
    });
    const workflowHandlerErrors = new MathExpression({
      expression: 'FILL(approvalErrors, 0) + FILL(statusErrors, 0)',
      usingMetrics: {
        approvalErrors: workflows.approvalHandlerFunction.metricErrors(sum),
        statusErrors: workflows.statusHandlerFunction.metricErrors(sum),
      },
      period: FIVE_MINUTES,
      label: 'Approval and status handler errors',
    });
    const workflowThrottles = new MathExpression({
      expression: 'FILL(stepRunnerThrottles, 0) + FILL(approvalThrottles, 0) + FILL(statusThrottles, 0)',
      usingMetrics: {
        stepRunnerThrottles: stepRunner.metricThrottles(sum),
        approvalThrottles: workflows.approvalHandlerFunction.metricThrottles(sum),
        statusThrottles: workflows.statusHandlerFunction.metricThrottles(sum),
      },
      period: FIVE_MINUTES,
      label: 'Workflow function throttles',
    });
    const stepRunnerTimeoutMs = workflows.stepRunnerTimeout.toMilliseconds();
    const nearTimeoutMs = Math.floor(stepRunnerTimeoutMs * 0.9);
    const deadLetters = workflows.statusDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: FIVE_MINUTES,
      statistic: Stats.MAXIMUM,
    });

    const alarm = (
      alarmId: string,
      metric: IMetric,
      threshold: number,
      description: string,
      comparisonOperator: ComparisonOperator,
      evaluationPeriods = 1,
    ): Alarm => {
      const created = new Alarm(this, alarmId, {
        metric,
        threshold,
        comparisonOperator,
        evaluationPeriods,
        datapointsToAlarm: evaluationPeriods,
        // No traffic is not an outage; missing data would otherwise flap the alarm at night.
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new SnsAction(this.alarmTopic));
      created.addOkAction(new SnsAction(this.alarmTopic));
      return created;
    };
    const above = ComparisonOperator.GREATER_THAN_THRESHOLD;
    const atLeast = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;

    this.alarms = [
      alarm(
        'Api5xxRateAlarm',
        api5xxRate,
        1,
        'More than 1% of API requests failed with 5xx over 5 minutes.',
        above,
      ),
      alarm(
        'ApiLatencyP99Alarm',
        httpApi.metricLatency({ period: FIVE_MINUTES, statistic: Stats.p(99) }),
        props.latencyP99ThresholdMs,
        `API p99 latency above ${props.latencyP99ThresholdMs} ms for 15 minutes.`,
        above,
        3,
      ),
      alarm(
        'AuthorizerErrorsAlarm',
        authorizerFunction.metricErrors({ period: FIVE_MINUTES, statistic: Stats.SUM }),
        1,
        'The request authorizer threw (not a denial: a crash). Every authenticated route fails while it does.',
        atLeast,
      ),
      alarm(
        'ApiFunctionErrorsAlarm',
        apiFunction.metricErrors({ period: FIVE_MINUTES, statistic: Stats.SUM }),
        1,
        'The API function failed an invocation (unhandled error or timeout).',
        atLeast,
      ),
      alarm('LambdaThrottlesAlarm', throttles, 1, 'API or authorizer invocations were throttled.', atLeast),
      alarm(
        'ExecutionFailureRateAlarm',
        executionFailureRate,
        props.executionFailureRatePercent,
        `More than ${props.executionFailureRatePercent}% of finished workflow executions failed or timed out over 5 minutes.`,
        above,
      ),
      alarm(
        'StepFailureRateAlarm',
        stepFailureRate,
        props.stepFailureRatePercent,
        `More than ${props.stepFailureRatePercent}% of step runner invocations failed over 5 minutes (providers or tools failing; workflow retries may still recover).`,
        above,
      ),
      alarm(
        'StepRunnerDurationAlarm',
        stepRunner.metricDuration({ period: FIVE_MINUTES, statistic: Stats.MAXIMUM }),
        nearTimeoutMs,
        `A step run took over 90% of the step runner's ${workflows.stepRunnerTimeout.toSeconds()} s timeout: steps are being cut off (a timeout emits no StepFailed).`,
        above,
      ),
      alarm(
        'WorkflowHandlerErrorsAlarm',
        workflowHandlerErrors,
        1,
        'The approval or status handler failed an invocation: an approval step failed, or a final status awaits a retry.',
        atLeast,
      ),
      alarm(
        'WorkflowThrottlesAlarm',
        workflowThrottles,
        1,
        'Step runner, approval or status handler invocations were throttled: steps are being retried or delayed.',
        atLeast,
      ),
      alarm(
        'BudgetThresholdAlarm',
        workflows.metricBudgetThresholds({ period: FIVE_MINUTES }),
        1,
        'A tenant reached one of its monthly budget alert thresholds; the step runner log names the tenant and the threshold.',
        atLeast,
      ),
      alarm(
        'StatusDeadLetterAlarm',
        deadLetters,
        1,
        'Execution status events could not be recorded and wait in the dead-letter queue: those executions show a stale status until the queue is redriven.',
        atLeast,
      ),
    ];

    const functions: readonly (readonly [string, IFunction])[] = [
      ['API', apiFunction],
      ['Authorizer', authorizerFunction],
      ['Step runner', stepRunner],
      ['Approval handler', workflows.approvalHandlerFunction],
      ['Status handler', workflows.statusHandlerFunction],
    ];
    const lambdaMetric = (label: string, metric: (fn: IFunction) => Metric): IMetric[] =>
      functions.map(([name, fn]) => metric(fn).with({ label: `${name} ${label}` }));

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new GraphWidget({
            title: 'API requests and errors',
            left: [
              httpApi.metricCount({ period: FIVE_MINUTES, statistic: Stats.SUM, label: 'Requests' }),
              httpApi.metricClientError({ period: FIVE_MINUTES, statistic: Stats.SUM, label: '4xx' }),
              httpApi.metricServerError({ period: FIVE_MINUTES, statistic: Stats.SUM, label: '5xx' }),
            ],
            right: [api5xxRate],
            width: 12,
          }),
          new GraphWidget({
            title: 'API latency (ms)',
            left: [
              httpApi.metricLatency({ period: FIVE_MINUTES, statistic: Stats.p(50), label: 'p50' }),
              httpApi.metricLatency({ period: FIVE_MINUTES, statistic: Stats.p(90), label: 'p90' }),
              httpApi.metricLatency({ period: FIVE_MINUTES, statistic: Stats.p(99), label: 'p99' }),
              httpApi.metricIntegrationLatency({
                period: FIVE_MINUTES,
                statistic: Stats.p(99),
                label: 'integration p99',
              }),
            ],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Lambda invocations and errors',
            left: lambdaMetric('invocations', (fn) =>
              fn.metricInvocations({ period: FIVE_MINUTES, statistic: Stats.SUM }),
            ),
            right: lambdaMetric('errors', (fn) =>
              fn.metricErrors({ period: FIVE_MINUTES, statistic: Stats.SUM }),
            ),
            width: 8,
          }),
          new GraphWidget({
            title: 'Lambda duration p99 (ms)',
            left: lambdaMetric('p99', (fn) =>
              fn.metricDuration({ period: FIVE_MINUTES, statistic: Stats.p(99) }),
            ),
            width: 8,
          }),
          new GraphWidget({
            title: 'Lambda throttles',
            left: lambdaMetric('throttles', (fn) =>
              fn.metricThrottles({ period: FIVE_MINUTES, statistic: Stats.SUM }),
            ),
            width: 8,
          }),
        ],
        [
          new GraphWidget({
            title: 'Workflow executions',
            left: [
              executions.succeeded.with({ label: 'Succeeded' }),
              executions.failed.with({ label: 'Failed' }),
              executions.timedOut.with({ label: 'Timed out' }),
              executions.aborted.with({ label: 'Cancelled' }),
            ],
            right: [executionFailureRate],
            width: 12,
          }),
          new GraphWidget({
            title: 'Workflow steps',
            left: [
              stepRunner.metricInvocations({ ...sum, label: 'Step runs' }),
              workflows.metricStepFailures({ ...sum, label: 'Step failures' }),
            ],
            right: [stepFailureRate],
            width: 8,
          }),
          new GraphWidget({
            title: 'Undelivered status events',
            left: [deadLetters.with({ label: 'Messages waiting' })],
            width: 4,
          }),
        ],
        [new AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24 })],
      ],
    });
  }
}
