import { type App, Aws, CfnOutput, Duration, Fn, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import { UserPoolOperation } from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import { rateLimitEnvironment, type StageConfig, type StageName, stageConfigFromContext } from './config.ts';
import { consoleDistPath } from './console-build.ts';
import { AccessLogs } from './constructs/access-logs.ts';
import { Api } from './constructs/api.ts';
import { AuditArchive } from './constructs/audit-archive.ts';
import { AuditStream } from './constructs/audit-stream.ts';
import { ConsoleSite } from './constructs/console.ts';
import { Flows } from './constructs/flows.ts';
import { Identity } from './constructs/identity.ts';
import { Lifecycle } from './constructs/lifecycle.ts';
import { Notifications } from './constructs/notifications.ts';
import { Schedules } from './constructs/schedules.ts';
import { Storage } from './constructs/storage.ts';
import { Telemetry } from './constructs/telemetry.ts';

/** The stack id (and CloudFormation stack name) of a stage: `MeridianDev`, `MeridianProd`. */
export function meridianStackId(stage: StageName): string {
  return `Meridian${stage.charAt(0).toUpperCase()}${stage.slice(1)}`;
}

/**
 * Adds the stack of the stage named in `app`'s context (`-c stage=dev|prod`, default dev, plus the
 * overrides of lib/config.ts). Shared by bin/app.ts and the infra tests so both build the same app.
 */
export function addMeridianStack(app: App): MeridianStack {
  const config = stageConfigFromContext(app.node);
  return new MeridianStack(app, meridianStackId(config.stage), { config });
}

/** Properties of {@link MeridianStack}. */
export interface MeridianStackProps extends StackProps {
  /** The validated configuration of the stage being deployed. */
  readonly config: StageConfig;
}

/**
 * One stage of Meridian. The stack only composes capability constructs and wires them by object
 * reference. Stateful constructs (access logs, storage, audit archive, identity) come first and carry
 * their own retention and deletion protection; stateless ones (API, flows, telemetry) follow.
 *
 * One stack rather than a data/API pair: cross-stack exports would pin the table, buckets and keys
 * (an export in use cannot change), and the stateful resources are protected by RETAIN, deletion
 * protection and, in prod, stack termination protection instead.
 */
export class MeridianStack extends Stack {
  /** The configuration the stack was built from. */
  readonly config: StageConfig;
  /** S3 server access log destination. */
  readonly accessLogs: AccessLogs;
  /** The single table and the artifacts bucket. */
  readonly storage: Storage;
  /** The Object Lock audit archive. */
  readonly auditArchive: AuditArchive;
  /** The audit stream consumer: archive writer and digest signer. */
  readonly auditStream: AuditStream;
  /** The Cognito user pool, hosted login and app client. */
  readonly identity: Identity;
  /** The HTTP API, its functions and the tenant data role. */
  readonly api: Api;
  /** Workflow execution: step runner, approval and status handlers, workflow role, status rule. */
  readonly flows: Flows;
  /** Notification delivery: queue, dead-letter queue and delivery function. */
  readonly notifications: Notifications;
  /** Schedules: the fire function and the role EventBridge Scheduler invokes it with. */
  readonly schedules: Schedules;
  /** Tenant data lifecycle jobs: offboarding and export. */
  readonly lifecycle: Lifecycle;
  /** Alarms, alarm topic and dashboard. */
  readonly telemetry: Telemetry;
  /** The console: S3 behind CloudFront. */
  readonly console: ConsoleSite;

  constructor(scope: Construct, id: string, props: MeridianStackProps) {
    const { config } = props;
    super(scope, id, {
      description: `Meridian multi-tenant AI-agent workflow platform (${config.stage})`,
      terminationProtection: config.deletionProtection,
      ...props,
    });
    this.config = config;
    // CloudFormation's AWS::CloudWatch::Dashboard takes no Tags (cfn-lint E3002), though the CDK offers them.
    const untaggable = { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] };
    Tags.of(this).add('Project', 'Meridian', untaggable);
    Tags.of(this).add('Stage', config.stage, untaggable);

    this.accessLogs = new AccessLogs(this, 'AccessLogs', { expirationDays: config.accessLogsExpirationDays });
    this.storage = new Storage(this, 'Storage', {
      removalPolicy: config.removalPolicy,
      deletionProtection: config.deletionProtection,
      accessLogsBucket: this.accessLogs.bucket,
      artifactsNoncurrentVersionDays: config.artifactsNoncurrentVersionDays,
    });
    this.auditArchive = new AuditArchive(this, 'AuditArchive', {
      objectLockDays: config.auditObjectLockDays,
      glacierTransitionDays: config.auditGlacierTransitionDays,
      accessLogsBucket: this.accessLogs.bucket,
    });
    // The console first: its CloudFront URL is a sign-in redirect of the app client and a CORS origin of the API.
    this.console = new ConsoleSite(this, 'Console', {
      distPath: consoleDistPath(),
      accessLogsBucket: this.accessLogs.bucket,
      removalPolicy: config.removalPolicy,
      logRetention: config.logRetention,
    });
    this.identity = new Identity(this, 'Identity', {
      mfa: config.mfa,
      threatProtection: config.threatProtection,
      // Domain prefixes are unique per region across all accounts: the account id makes the default
      // prefix safe to deploy anywhere without a lookup.
      domainPrefix: Fn.join('-', [config.hostedLoginDomainPrefix, Aws.ACCOUNT_ID]),
      callbackUrls: [...config.callbackUrls, this.console.url],
      logoutUrls: [...config.logoutUrls, this.console.url],
      removalPolicy: config.removalPolicy,
      deletionProtection: config.deletionProtection,
      ...(config.cognitoEmail ? { sesEmail: config.cognitoEmail } : {}),
    });

    this.api = new Api(this, 'Api', {
      stage: config.stage,
      table: this.storage.table,
      auditBucket: this.auditArchive.bucket,
      artifactsBucket: this.storage.artifactsBucket,
      userPool: this.identity.userPool,
      userPoolClient: this.identity.client,
      apiFunction: config.apiFunction,
      authorizerFunction: config.authorizerFunction,
      corsAllowedOrigins: [...config.corsAllowedOrigins, this.console.origin],
      throttle: config.apiThrottle,
      logRetention: config.logRetention,
      logRemovalPolicy: config.removalPolicy,
    });
    // Before every token: just-in-time provisioning of federated users, and SSO-required tenants'
    // password sign-ins refused (V1_0 event: the tokens themselves are not changed).
    this.identity.userPool.addTrigger(UserPoolOperation.PRE_TOKEN_GENERATION, this.api.ssoTrigger.function);
    this.flows = new Flows(this, 'Flows', {
      stage: config.stage,
      table: this.storage.table,
      artifactsBucket: this.storage.artifactsBucket,
      stepRunnerFunction: config.stepRunnerFunction,
      approvalHandlerFunction: config.approvalHandlerFunction,
      statusHandlerFunction: config.statusHandlerFunction,
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    // The API publishes, promotes, starts and stops workflows and answers approval steps.
    this.flows.bindWorkflowControl(this.api.apiFunction);
    this.schedules = new Schedules(this, 'Schedules', {
      stage: config.stage,
      table: this.storage.table,
      flows: this.flows,
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    // The API creates and deletes the tenants' schedules.
    this.schedules.bindScheduleControl(this.api.apiFunction);
    this.lifecycle = new Lifecycle(this, 'Lifecycle', {
      stage: config.stage,
      table: this.storage.table,
      artifactsBucket: this.storage.artifactsBucket,
      userPool: this.identity.userPool,
      userPoolClient: this.identity.client,
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.lifecycle.bindStarter(this.api.apiFunction);
    // The API counts requests by these; offboarding (the lifecycle function) erases the counters
    // they name, so both read the same window.
    const rateLimits = rateLimitEnvironment(config.rateLimits);
    for (const fn of [this.api.apiFunction, this.lifecycle.fn]) {
      for (const name of Object.keys(rateLimits) as (keyof typeof rateLimits)[]) {
        fn.addEnvironment(name, String(rateLimits[name]));
      }
    }
    this.notifications = new Notifications(this, 'Notifications', {
      stage: config.stage,
      table: this.storage.table,
      deliveryFunction: config.notificationDeliveryFunction,
      ...(config.notificationsFromEmail ? { fromEmail: config.notificationsFromEmail } : {}),
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    // Approval pending (approval handler, promotions through the API), execution failed or timed out
    // (status handler), budget threshold (step runner).
    for (const fn of [
      this.api.apiFunction,
      this.flows.stepRunner,
      this.flows.approvalHandler,
      this.flows.statusHandler,
    ]) {
      this.notifications.bindPublisher(fn);
    }
    this.auditStream = new AuditStream(this, 'AuditStream', {
      stage: config.stage,
      table: this.storage.table,
      auditBucket: this.auditArchive.bucket,
      // `-c auditDigestIntervalSeconds=30` shortens the interval between a tenant's digests.
      digestInterval: Duration.seconds(Number(this.node.tryGetContext('auditDigestIntervalSeconds') ?? 60)),
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.auditStream.bindVerifier(this.api.apiFunction);

    this.telemetry = new Telemetry(this, 'Telemetry', {
      httpApi: this.api.httpApi,
      apiFunction: this.api.apiFunction.function,
      authorizerFunction: this.api.authorizerFunction.function,
      latencyP99ThresholdMs: config.apiLatencyP99AlarmMs,
      workflows: this.flows,
      executionFailureRatePercent: config.executionFailureRateAlarmPercent,
      stepFailureRatePercent: config.stepFailureRateAlarmPercent,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
      removalPolicy: config.removalPolicy,
    });

    this.console.publish({
      apiUrl: this.api.url,
      hostedLoginBaseUrl: this.identity.domain.baseUrl(),
      clientId: this.identity.client.userPoolClientId,
      scopes: ['openid', 'email', 'profile'],
    });
    new CfnOutput(this, 'ConsoleUrl', {
      value: this.console.url,
      description: 'The Meridian Console (CloudFront); sign in with the hosted login',
    });
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the Meridian API' });
    new CfnOutput(this, 'UserPoolId', {
      value: this.identity.userPool.userPoolId,
      description: 'Cognito user pool id',
    });
    new CfnOutput(this, 'UserPoolClientId', {
      value: this.identity.client.userPoolClientId,
      description: 'Public app client id (hosted login, CLI)',
    });
    new CfnOutput(this, 'HostedLoginUrl', {
      value: this.identity.hostedLoginUrl,
      description: 'Hosted login page (authorization code flow; add PKCE parameters)',
    });
    new CfnOutput(this, 'TableName', {
      value: this.storage.table.tableName,
      description: 'The single table',
    });
    new CfnOutput(this, 'AuditBucketName', {
      value: this.auditArchive.bucket.bucketName,
      description: 'Object Lock audit archive bucket',
    });
    new CfnOutput(this, 'ArtifactsBucketName', {
      value: this.storage.artifactsBucket.bucketName,
      description: 'Large step outputs and exports',
    });
    new CfnOutput(this, 'WorkflowLogGroupName', {
      value: this.flows.workflowLogGroup.logGroupName,
      description: 'Execution logs of every workflow state machine (errors)',
    });
    new CfnOutput(this, 'NotificationDeadLetterQueueUrl', {
      value: this.notifications.deadLetterQueue.queueUrl,
      description: 'Notifications whose delivery attempts ran out (GET /notifications shows their logs)',
    });
    new CfnOutput(this, 'StatusDeadLetterQueueUrl', {
      value: this.flows.statusDeadLetterQueue.queueUrl,
      description: 'Execution status events that could not be recorded; replay each to the status handler',
    });
  }
}
