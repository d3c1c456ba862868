import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
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
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

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
 * all publishing to one encrypted SNS topic, and a dashboard with the API and Lambda graphs.
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

    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Meridian alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    // CloudWatch publishes alarm notifications itself; without these it cannot write to an encrypted topic.
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Meridian alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      const subscription = this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An e-mail subscription to the alarm topic: a dead-letter queue for undeliverable alarm mail would itself need watching, and every alarm stays visible on the dashboard and in CloudWatch.',
      });
    }

    const { httpApi, apiFunction, authorizerFunction } = props;
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
    ];

    const functions: readonly (readonly [string, IFunction])[] = [
      ['API', apiFunction],
      ['Authorizer', authorizerFunction],
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
        [new AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24 })],
      ],
    });
  }
}
