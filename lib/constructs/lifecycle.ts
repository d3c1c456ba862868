import { Aws, Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { lifecycleDefinition } from '#shared/lifecycle-asl.ts';
import { tenantItemGrants } from '../aws-calls.ts';
import { acknowledgeResourceStar, acknowledgeWildcardResource } from '../compliance.ts';
import type { StageName } from '../config.ts';
import { stateMachinePrefix } from './flows.ts';
import { MeridianFunction } from './function.ts';
import { createTenantDataRole, grantTenantWorkflows, tenantSecretsPrefix } from './tenant-data-role.ts';

/** Properties of {@link Lifecycle}. */
export interface LifecycleProps {
  readonly stage: StageName;
  readonly table: ITable;
  readonly artifactsBucket: IBucket;
  readonly userPool: IUserPool;
  readonly userPoolClient: IUserPoolClient;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The name of a lifecycle job's state machine. Outside `meridian-<stage>-*`, the prefix the API may
 * create, change and delete workflow machines under, so no tenant-facing permission reaches it.
 */
export function lifecycleMachineName(stage: StageName, kind: 'offboarding' | 'export'): string {
  return `meridian-lifecycle-${stage}-${kind}`;
}

/**
 * Tenant data lifecycle jobs (docs/lifecycle.md): the Lambda that runs one batch of an offboarding or
 * an export, and the two Standard state machines that loop it (functions/shared/lifecycle-asl.ts, the
 * ASL the local platform runs too). The function reaches tenant data only through its tenant data
 * role (items by `dynamodb:LeadingKeys`, secrets to delete, objects under `tenants/<t>/`); with its
 * own role only the user pool's AdminDeleteUser and the stage's workflow machines and executions.
 */
export class Lifecycle extends Construct {
  readonly fn: MeridianFunction;
  readonly tenantRole: Role;
  readonly offboarding: StateMachine;
  readonly export: StateMachine;

  constructor(scope: Construct, id: string, props: LifecycleProps) {
    super(scope, id);
    this.fn = new MeridianFunction(this, 'Function', {
      entry: 'functions/handlers/lifecycle-handler.ts',
      description: `Meridian tenant lifecycle: offboarding and export batches (${props.stage})`,
      serviceName: 'lifecycle',
      stage: props.stage,
      memorySize: 1024,
      // One batch is bounded (200 items, 1,000 objects); an export is one task (docs/lifecycle.md).
      timeout: Duration.minutes(15),
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
    })
      .bindTable(props.table, 'nameOnly')
      .bindArtifactsBucket(props.artifactsBucket, 'nameOnly')
      // Offboarding deletes the tenant's logins (the permission below).
      .bindUserPool(props.userPool, props.userPoolClient, 'verify');
    Validations.of(this.fn.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked only synchronously by its state machines (lambda:invoke); a failed batch is retried by the Task Retry, and a new run resumes from the recorded progress.',
    });
    this.fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'DeleteTenantLogins',
        actions: ['cognito-idp:AdminDeleteUser'],
        resources: [props.userPool.userPoolArn],
      }),
    );
    const prefix = stateMachinePrefix(props.stage);

    const secretsPrefix = tenantSecretsPrefix(props.stage);
    this.tenantRole = createTenantDataRole(this, 'TenantRole', {
      table: props.table,
      secretsPrefix,
      secretAccess: 'erase',
      itemGrants: tenantItemGrants('lifecycle'),
      artifacts: { bucket: props.artifactsBucket, access: 'lifecycle' },
      trustedRole: this.fn.role,
      description:
        "Assumed by the lifecycle function with session tag TenantId; that tenant's items, objects, secrets and workflow machines to export or erase",
    });
    // Offboarding stops the tenant's executions and deletes its workflow machines: on the tenant's
    // session, so IAM, not only the code, keeps it to that tenant's.
    grantTenantWorkflows(this, this.tenantRole, { prefix, access: 'retire' });
    this.fn.bindTenantDataRole(this.tenantRole, secretsPrefix);
    this.fn.addEnvironment('STATE_MACHINE_PREFIX', prefix);

    const machine = (kind: 'offboarding' | 'export') => {
      const logs = new LogGroup(this, `${kind === 'export' ? 'Export' : 'Offboarding'}Logs`, {
        retention: props.logRetention,
        removalPolicy: props.removalPolicy,
      });
      const sm = new StateMachine(this, kind === 'export' ? 'Export' : 'Offboarding', {
        stateMachineName: lifecycleMachineName(props.stage, kind),
        stateMachineType: StateMachineType.STANDARD,
        definitionBody: DefinitionBody.fromString(
          JSON.stringify(lifecycleDefinition(kind, this.fn.function.functionArn, Aws.PARTITION)),
        ),
        tracingEnabled: true,
        // Every event, without execution data (tenant ids only, never tenant data).
        logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
        timeout: Duration.days(7),
      });
      this.fn.function.grantInvoke(sm);
      acknowledgeWildcardResource(
        sm.role,
        `${this.fn.function.functionArn}:*`,
        "grantInvoke adds the function's qualified ARNs (versions, aliases); the ASL invokes the unqualified ARN of this one function.",
      );
      acknowledgeResourceStar(
        sm.role,
        [
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ],
        'X-Ray tracing of the state machine supports no resource-level permissions.',
      );
      acknowledgeResourceStar(
        sm.role,
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
      return sm;
    };
    this.offboarding = machine('offboarding');
    this.export = machine('export');
  }

  /** Lets `fn` (the API) start lifecycle jobs, and tells it where they are. */
  bindStarter(fn: MeridianFunction): this {
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'StartLifecycleJobs',
        actions: ['states:StartExecution'],
        resources: [this.offboarding.stateMachineArn, this.export.stateMachineArn],
      }),
    );
    fn.addEnvironment('OFFBOARDING_STATE_MACHINE_ARN', this.offboarding.stateMachineArn);
    fn.addEnvironment('EXPORT_STATE_MACHINE_ARN', this.export.stateMachineArn);
    return this;
  }
}
