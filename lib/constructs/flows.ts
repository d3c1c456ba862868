import { ArnFormat, Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Metric, type MetricOptions, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Match, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { stagePrefix } from '#shared/resource-names.ts';
import { tenantItemGrants } from '../aws-calls.ts';
import { acknowledgeResourceStar, acknowledgeWildcardResource } from '../compliance.ts';
import type { FunctionSizing, StageName } from '../config.ts';
import { METRICS_NAMESPACE, MeridianFunction } from './function.ts';
import type { WorkflowMonitoring } from './telemetry.ts';
import { createTenantDataRole, grantTenantWorkflows, tenantSecretsPrefix } from './tenant-data-role.ts';

/** The statuses that end an execution: what the status rule forwards and the status handler counts. */
export const FINAL_EXECUTION_STATUSES = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/** One of {@link FINAL_EXECUTION_STATUSES}. */
export type FinalExecutionStatus = (typeof FINAL_EXECUTION_STATUSES)[number];

/**
 * Powertools service names of the workflow functions: the `service` dimension of their EMF metrics,
 * which the alarms select by.
 */
export const WORKFLOW_SERVICE_NAMES = Object.freeze({
  stepRunner: 'meridian-step-runner',
  approvalHandler: 'meridian-approval-handler',
  statusHandler: 'meridian-status-handler',
});

/**
 * Prefix of every workflow state machine name of a stage (`STATE_MACHINE_PREFIX`): the runtime names
 * machines `<prefix>-<tenantId>-<workflowId>`, and IAM and the status rule select them by it.
 */
export function stateMachinePrefix(stage: StageName): string {
  return stagePrefix(stage);
}

/** How long undelivered status events wait for a redrive: the longest SQS keeps a message. */
const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * EventBridge's own retries of delivering a status event to the status handler, and for how long.
 * Delivery is an asynchronous invoke, which fails only when Lambda refuses it (throttling, quota).
 */
const STATUS_DELIVERY_RETRIES = 8;
const STATUS_DELIVERY_MAX_AGE = Duration.hours(2);

/** Properties of {@link Flows}. */
export interface FlowsProps {
  /** Deployment stage: the state machine prefix `meridian-<stage>` and the tenant secrets prefix. */
  readonly stage: StageName;
  /** The single table: executions, steps, approvals and usage live in it. */
  readonly table: ITable;
  /** The artifacts bucket: the step runner writes outputs over the payload limit there and reads them back. */
  readonly artifactsBucket: IBucket;
  /** Memory and timeout of the step runner. */
  readonly stepRunnerFunction: FunctionSizing;
  /** Memory and timeout of the approval handler. */
  readonly approvalHandlerFunction: FunctionSizing;
  /** Memory and timeout of the status handler. */
  readonly statusHandlerFunction: FunctionSizing;
  /** Retention of the function log groups and the workflow execution log group. */
  readonly logRetention: RetentionDays;
  /**
   * Removal policy of the log groups, the status dead-letter queue and its key: RETAIN in prod, so
   * undelivered status events and execution logs outlive a stack deletion.
   */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Workflow execution on Step Functions. The state machines themselves are created at run time by the
 * API (one per workflow, named `meridian-<stage>-<tenant>-<workflow>`, tagged `TenantId`), so this
 * construct provides what they need and what serves them:
 *
 * - the **step runner** (agent and tool steps) and the **approval handler** (`.waitForTaskToken`
 *   approval steps), the only functions the workflows may invoke;
 * - the **workflow role** every state machine runs as, and the **log group** executions log to;
 * - the **status rule**: final execution status changes of this stage's machines, delivered to the
 *   **status handler** with retries and a dead-letter queue for what still cannot be delivered;
 * - {@link bindWorkflowControl}, which gives the API function the Step Functions permissions,
 *   scoped by name prefix and tenant tag, and the settings it compiles into every workflow.
 *
 * The functions run outside a VPC on purpose: HTTP tools and OpenAI-compatible providers call the
 * public internet, and the SSRF guard (private, loopback, link-local and metadata addresses refused
 * after DNS resolution, redirects re-checked) runs in code before any connection. A VPC would add NAT
 * cost and cold-start latency without narrowing what the guard already refuses.
 */
export class Flows extends Construct implements WorkflowMonitoring {
  /** The Lambda behind every agent and tool Task. */
  readonly stepRunner: MeridianFunction;
  /** The Lambda behind every approval Task (`lambda:invoke.waitForTaskToken`). */
  readonly approvalHandler: MeridianFunction;
  /** Records each execution's final status from the status rule's events. */
  readonly statusHandler: MeridianFunction;
  /**
   * Role the step runner assumes per tenant (session tag `TenantId`): the tenant's items, and read-only
   * access to the tenant's secrets, and the tenant's artifact prefix. The step runner has no table,
   * artifact or secret permission of its own.
   */
  readonly stepRunnerTenantRole: Role;
  /** Role the approval handler assumes per tenant: that tenant's items, nothing else. */
  readonly approvalHandlerTenantRole: Role;
  /** Role the status handler assumes per tenant: that tenant's items, nothing else. */
  readonly statusHandlerTenantRole: Role;
  /** The execution role of every workflow state machine. */
  readonly workflowRole: Role;
  /** Where every workflow state machine logs (errors only, without execution data). */
  readonly workflowLogGroup: LogGroup;
  /** The EventBridge rule that forwards final status changes to the status handler. */
  readonly statusRule: Rule;
  /** Status events that neither EventBridge nor the status handler could deliver. */
  readonly statusDeadLetterQueue: Queue;
  /** Customer-managed key of {@link statusDeadLetterQueue} (events carry execution output). */
  readonly statusDeadLetterKey: Key;
  /** Prefix of every workflow state machine name, `meridian-<stage>`. */
  readonly stateMachinePrefix: string;

  /** {@link WorkflowMonitoring}: the step runner function. */
  readonly stepRunnerFunction: IFunction;
  /** {@link WorkflowMonitoring}: the approval handler function. */
  readonly approvalHandlerFunction: IFunction;
  /** {@link WorkflowMonitoring}: the status handler function. */
  readonly statusHandlerFunction: IFunction;
  /** {@link WorkflowMonitoring}: the step runner's timeout. */
  readonly stepRunnerTimeout: Duration;

  constructor(scope: Construct, id: string, props: FlowsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.stateMachinePrefix = stateMachinePrefix(props.stage);
    const common = {
      stage: props.stage,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
    };

    this.statusDeadLetterKey = new Key(this, 'StatusDeadLetterKey', {
      description: 'Meridian undelivered execution status events',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    // EventBridge writes to the dead-letter queue as itself, not through a role: the key policy must
    // let it encrypt. Scoped by account, because naming the rule here would make a dependency cycle
    // (key -> rule -> queue -> key).
    this.statusDeadLetterKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.statusDeadLetterQueue = new Queue(this, 'StatusDeadLetterQueue', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: this.statusDeadLetterKey,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.statusDeadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This queue is itself the dead-letter queue of the status rule and the status handler; nothing consumes it automatically, so there is no failed consumer to redrive from. Its depth alarms instead.',
    });

    this.stepRunner = new MeridianFunction(this, 'StepRunner', {
      ...common,
      entry: 'functions/handlers/step-runner.ts',
      description: `Meridian workflow step runner: agent and tool steps (${props.stage})`,
      serviceName: WORKFLOW_SERVICE_NAMES.stepRunner,
      memorySize: props.stepRunnerFunction.memoryMb,
      timeout: props.stepRunnerFunction.timeout,
      // The bulkhead: a burst of steps is throttled (and retried by the workflow) before it can take
      // the concurrency the authorizer and the API need.
      ...(props.stepRunnerFunction.reservedConcurrency !== undefined
        ? { reservedConcurrency: props.stepRunnerFunction.reservedConcurrency }
        : {}),
    })
      // Every item the step runner touches is a tenant's: it reaches them only through the tenant
      // role below, never with its own credentials.
      .bindTable(props.table, 'nameOnly')
      // Large step outputs too: only under the tenant's prefix, through the tenant role.
      .bindArtifactsBucket(props.artifactsBucket, 'nameOnly');

    const secretsPrefix = tenantSecretsPrefix(props.stage);
    this.stepRunnerTenantRole = createTenantDataRole(this, 'StepRunnerTenantRole', {
      table: props.table,
      secretsPrefix,
      // Provider API keys and tool credentials are only read during a step.
      secretAccess: 'read',
      itemGrants: tenantItemGrants('stepRunner'),
      artifacts: { bucket: props.artifactsBucket, access: 'readWrite' },
      trustedRole: this.stepRunner.role,
      description:
        'Assumed by the step runner with session tag TenantId; that tenant items and read-only secrets',
    });
    this.stepRunner.bindTenantDataRole(this.stepRunnerTenantRole, secretsPrefix);
    this.grantBedrockInvoke(this.stepRunner);

    this.approvalHandler = new MeridianFunction(this, 'ApprovalHandler', {
      ...common,
      entry: 'functions/handlers/approval-handler.ts',
      description: `Meridian workflow approval steps: records the pending approval (${props.stage})`,
      serviceName: WORKFLOW_SERVICE_NAMES.approvalHandler,
      memorySize: props.approvalHandlerFunction.memoryMb,
      timeout: props.approvalHandlerFunction.timeout,
    }).bindTable(props.table, 'nameOnly');
    this.approvalHandlerTenantRole = createTenantDataRole(this, 'ApprovalHandlerTenantRole', {
      table: props.table,
      secretsPrefix,
      secretAccess: 'none',
      itemGrants: tenantItemGrants('approvalHandler'),
      trustedRole: this.approvalHandler.role,
      description: 'Assumed by the approval handler with session tag TenantId; that tenant items only',
    });
    this.approvalHandler.bindTenantDataRole(this.approvalHandlerTenantRole, secretsPrefix);

    this.statusHandler = new MeridianFunction(this, 'StatusHandler', {
      ...common,
      entry: 'functions/handlers/status-handler.ts',
      description: `Meridian execution status handler: records final statuses (${props.stage})`,
      serviceName: WORKFLOW_SERVICE_NAMES.statusHandler,
      memorySize: props.statusHandlerFunction.memoryMb,
      timeout: props.statusHandlerFunction.timeout,
      // EventBridge invokes it asynchronously: an event that still fails after Lambda's two retries
      // lands here instead of being dropped, and the execution's status can be recorded by a redrive.
      deadLetterQueue: this.statusDeadLetterQueue,
    })
      .bindTable(props.table, 'nameOnly')
      .bindArtifactsBucket(props.artifactsBucket, 'nameOnly');
    this.statusHandlerTenantRole = createTenantDataRole(this, 'StatusHandlerTenantRole', {
      table: props.table,
      secretsPrefix,
      secretAccess: 'none',
      itemGrants: tenantItemGrants('statusHandler'),
      // An ended execution's artifacts are tagged with the tenant's retention (S3 lifecycle rules).
      artifacts: { bucket: props.artifactsBucket, access: 'tag' },
      trustedRole: this.statusHandler.role,
      description: 'Assumed by the status handler with session tag TenantId; that tenant items only',
    });
    this.statusHandler.bindTenantDataRole(this.statusHandlerTenantRole, secretsPrefix);

    for (const fn of [this.stepRunner, this.approvalHandler]) {
      Validations.of(fn.function).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked only synchronously, by Step Functions Task states (lambda:invoke, RequestResponse): a failure goes back to the execution, whose Retry and Catch handle it; an asynchronous dead-letter queue would never receive anything.',
      });
    }

    this.workflowLogGroup = new LogGroup(this, 'WorkflowLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.workflowRole = this.createWorkflowRole();
    this.statusRule = this.createStatusRule();

    this.stepRunnerFunction = this.stepRunner.function;
    this.approvalHandlerFunction = this.approvalHandler.function;
    this.statusHandlerFunction = this.statusHandler.function;
    this.stepRunnerTimeout = props.stepRunnerFunction.timeout;
  }

  /**
   * Lets `fn` (the schedule fire function) start executions of its session tenant's state machines,
   * and nothing else of Step Functions: on its tenant data role (lib/constructs/tenant-data-role.ts).
   */
  bindExecutionStart(fn: MeridianFunction): this {
    grantTenantWorkflows(this, tenantRoleOf(fn), { prefix: this.stateMachinePrefix, access: 'start' });
    return this;
  }

  /**
   * Lets `fn` (the API function) manage and run its session tenant's workflow state machines, and
   * sets the settings it compiles into them: `STATE_MACHINE_PREFIX`, `STEP_RUNNER_ARN`,
   * `APPROVAL_HANDLER_ARN`, `WORKFLOW_ROLE_ARN` and `WORKFLOW_LOG_GROUP_ARN`.
   *
   * Every Step Functions permission but the approval answers is on `fn`'s tenant data role: machines
   * named `meridian-<stage>-<session tenant>-*` (and their executions), created with the session
   * tenant's `TenantId` tag and changed or started only while they carry it. Only the actions the
   * runtime calls are allowed: no Describe* but the alias's, no SendTaskHeartbeat.
   */
  bindWorkflowControl(fn: MeridianFunction): this {
    grantTenantWorkflows(this, tenantRoleOf(fn), {
      prefix: this.stateMachinePrefix,
      access: 'control',
      workflowRole: this.workflowRole,
    });
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'AnswerApprovalTasks',
        // Authorized by the task token alone: these actions support no resource-level permissions.
        actions: ['states:SendTaskFailure', 'states:SendTaskSuccess'],
        resources: ['*'],
      }),
    );
    acknowledgeResourceStar(
      fn.role,
      ['states:SendTaskFailure', 'states:SendTaskSuccess'],
      'Resuming or failing an approval step is authorized by the unguessable task token; these actions support no resource-level permissions.',
    );

    fn.addEnvironment('STATE_MACHINE_PREFIX', this.stateMachinePrefix)
      // The unqualified function ARNs: the compiled ASL invokes `FunctionName: <arn>`, which runs $LATEST.
      .addEnvironment('STEP_RUNNER_ARN', this.stepRunner.function.functionArn)
      .addEnvironment('APPROVAL_HANDLER_ARN', this.approvalHandler.function.functionArn)
      .addEnvironment('WORKFLOW_ROLE_ARN', this.workflowRole.roleArn)
      // A log group's CloudFormation `Arn` already ends in `:*`, the form Step Functions requires.
      .addEnvironment('WORKFLOW_LOG_GROUP_ARN', this.workflowLogGroup.logGroupArn);
    return this;
  }

  /** Count of executions that ended with `status`, as the status handler emits it (EMF). */
  metricExecutions(status: FinalExecutionStatus, props: MetricOptions = {}): Metric {
    return new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: `Execution${status}`,
      dimensionsMap: { service: WORKFLOW_SERVICE_NAMES.statusHandler },
      statistic: Stats.SUM,
      ...props,
    });
  }

  /** Count of steps whose run threw (provider, tool or definition errors), as the step runner emits it. */
  metricStepFailures(props: MetricOptions = {}): Metric {
    return new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'StepFailed',
      dimensionsMap: { service: WORKFLOW_SERVICE_NAMES.stepRunner },
      statistic: Stats.SUM,
      ...props,
    });
  }

  /** Count of tenant budget thresholds reached, as the step runner emits it (once per tenant, month and threshold). */
  metricBudgetThresholds(props: MetricOptions = {}): Metric {
    return new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'BudgetThresholdReached',
      dimensionsMap: { service: WORKFLOW_SERVICE_NAMES.stepRunner },
      statistic: Stats.SUM,
      ...props,
    });
  }

  /**
   * Bedrock Converse is authorized as `bedrock:InvokeModel` (the streaming variant, never used, would
   * be InvokeModelWithResponseStream). Tenants pick the model per agent, so any foundation model in
   * any region (cross-region inference profiles route to other regions) and this account's inference
   * profiles; model access itself is still granted per account in the Bedrock console.
   */
  private grantBedrockInvoke(fn: MeridianFunction): void {
    const stack = Stack.of(this);
    const foundationModels = stack.formatArn({
      service: 'bedrock',
      region: '*',
      account: '',
      resource: 'foundation-model',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const inferenceProfiles = stack.formatArn({
      service: 'bedrock',
      resource: 'inference-profile',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'InvokeBedrockModels',
        actions: ['bedrock:InvokeModel'],
        resources: [foundationModels, inferenceProfiles],
      }),
    );
    acknowledgeWildcardResource(
      fn.role,
      foundationModels,
      'Each tenant agent names its Bedrock model at run time, and cross-region inference profiles invoke the model in other regions; the statement allows only bedrock:InvokeModel (the Converse API), and model access is enabled per account in Bedrock.',
    );
    acknowledgeWildcardResource(
      fn.role,
      inferenceProfiles,
      "Each tenant agent may name a cross-region inference profile as its model at run time; the statement allows only bedrock:InvokeModel on this account's profiles in this region.",
    );
  }

  private createWorkflowRole(): Role {
    const stack = Stack.of(this);
    const role = new Role(this, 'WorkflowRole', {
      description: `Execution role of every ${this.stateMachinePrefix}-* workflow state machine`,
      // Only Step Functions acting for this account (confused-deputy protection).
      assumedBy: new ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    // Unqualified ARNs and `:*` (versions, aliases): the ASL names the unqualified ARN.
    this.stepRunner.function.grantInvoke(role);
    this.approvalHandler.function.grantInvoke(role);
    role.addToPolicy(
      new PolicyStatement({
        sid: 'WriteTraces',
        actions: [
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'DeliverExecutionLogs',
        // What Step Functions needs to set up CloudWatch Logs delivery for its state machines
        // (vended logs); checked against this role when a machine is created or updated.
        actions: [
          'logs:CreateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:DescribeLogGroups',
          'logs:DescribeResourcePolicies',
          'logs:GetLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:UpdateLogDelivery',
        ],
        resources: ['*'],
      }),
    );

    acknowledgeResourceStar(
      role,
      [
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ],
      'X-Ray tracing of the state machines supports no resource-level permissions.',
    );
    acknowledgeResourceStar(
      role,
      [
        'logs:CreateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:DescribeLogGroups',
        'logs:DescribeResourcePolicies',
        'logs:GetLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:UpdateLogDelivery',
      ],
      'The CloudWatch Logs delivery actions Step Functions logging needs support no resource-level permissions.',
    );
    for (const fn of [this.stepRunner, this.approvalHandler]) {
      acknowledgeWildcardResource(
        role,
        `${fn.function.functionArn}:*`,
        'Lambda authorizes invoking a function version or alias against "<function ARN>:<qualifier>"; the wildcard only covers qualifiers of this one workflow function.',
      );
    }
    return role;
  }

  private createStatusRule(): Rule {
    const machinePrefix = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: `${this.stateMachinePrefix}-`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return new Rule(this, 'ExecutionStatusRule', {
      description: `Final status changes of ${this.stateMachinePrefix}-* workflow executions, for the status handler`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: [...FINAL_EXECUTION_STATUSES],
          stateMachineArn: Match.prefix(machinePrefix),
        },
      },
      targets: [
        new LambdaFunction(this.statusHandler.function, {
          // Retries of the delivery itself (the asynchronous invoke failing or being throttled); once
          // Lambda accepts the event, its own retries and the function's dead-letter queue take over.
          retryAttempts: STATUS_DELIVERY_RETRIES,
          maxEventAge: STATUS_DELIVERY_MAX_AGE,
          deadLetterQueue: this.statusDeadLetterQueue,
        }),
      ],
    });
  }
}

/** The tenant data role `fn` was bound to: its Step Functions grants go there, never on `fn`'s own. */
function tenantRoleOf(fn: MeridianFunction): IRole {
  if (!fn.tenantDataRole) throw new Error('bind the tenant data role before the workflow permissions');
  return fn.tenantDataRole;
}
