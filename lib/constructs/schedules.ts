import { ArnFormat, Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { stagePrefix, TENANT_TAG } from '#shared/resource-names.ts';
import { tenantItemGrants } from '../aws-calls.ts';
import { acknowledgeWildcardResource } from '../compliance.ts';
import type { StageName } from '../config.ts';
import type { Flows } from './flows.ts';
import { MeridianFunction } from './function.ts';
import { createTenantDataRole, tenantSecretsPrefix } from './tenant-data-role.ts';

/** Properties of {@link Schedules}. */
export interface SchedulesProps {
  /** Deployment stage: the schedule group prefix `meridian-<stage>`. */
  readonly stage: StageName;
  readonly table: ITable;
  /** The workflows whose executions firings start. */
  readonly flows: Flows;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** Prefix of every tenant's schedule group of a stage: `meridian-<stage>-<tenantId>`. */
export function scheduleGroupPrefix(stage: StageName): string {
  return stagePrefix(stage);
}

/**
 * Schedules on EventBridge Scheduler. The schedules themselves are created at run time by the API
 * (one per Meridian schedule, in a group per tenant named `meridian-<stage>-<tenant>`); this
 * construct holds what they need: the fire function each firing invokes (it starts the execution,
 * as the schedule, through its own tenant data role), the role Scheduler invokes it with, and
 * {@link bindScheduleControl}, which lets the API function manage the schedules.
 */
export class Schedules extends Construct {
  /** The function every firing invokes (functions/handlers/schedule-fire.ts). */
  readonly fire: MeridianFunction;
  /** The role EventBridge Scheduler assumes to invoke {@link fire}; it may do nothing else. */
  readonly schedulerRole: Role;
  readonly groupPrefix: string;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.groupPrefix = scheduleGroupPrefix(props.stage);
    this.fire = new MeridianFunction(this, 'Fire', {
      entry: 'functions/handlers/schedule-fire.ts',
      description: `Meridian schedule firing: starts the schedule's workflow (${props.stage})`,
      stage: props.stage,
      serviceName: 'meridian-schedule-fire',
      // One execution start: a handful of DynamoDB round trips and one StartExecution.
      memorySize: 512,
      timeout: Duration.seconds(30),
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
    }).bindTable(props.table, 'nameOnly');
    const secretsPrefix = tenantSecretsPrefix(props.stage);
    const tenantRole = createTenantDataRole(this, 'FireTenantRole', {
      table: props.table,
      secretsPrefix,
      secretAccess: 'none',
      itemGrants: tenantItemGrants('scheduleFire'),
      trustedRole: this.fire.role,
      description:
        'Assumed by the schedule fire function with session tag TenantId; that tenant items, and starting its workflow machines',
    });
    this.fire.bindTenantDataRole(tenantRole, secretsPrefix);
    props.flows.bindExecutionStart(this.fire);
    Validations.of(this.fire.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'A firing that still fails after the retries is obsolete: the fire function refuses fire times more than an hour old, so a dead-letter queue would hold only events nobody may replay. Refusals and failures are logged and counted (ScheduleRefused).',
    });

    this.schedulerRole = new Role(this, 'SchedulerRole', {
      // Only EventBridge Scheduler acting for this account (confused-deputy protection).
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description:
        'Assumed by EventBridge Scheduler to invoke the Meridian schedule fire function, only that',
    });
    // The unqualified ARN only: schedules target it, and no version or alias wildcard is needed.
    this.schedulerRole.addToPolicy(
      new PolicyStatement({
        sid: 'InvokeFireFunction',
        actions: ['lambda:InvokeFunction'],
        resources: [this.fire.function.functionArn],
      }),
    );
  }

  /**
   * Lets `fn` (the API function) create and delete schedules in this stage's tenant groups, make a
   * tenant's group on its first schedule and delete it (offboarding), and pass the scheduler role;
   * sets `SCHEDULE_GROUP_PREFIX`, `SCHEDULE_FIRE_ARN` and `SCHEDULER_ROLE_ARN`.
   */
  bindScheduleControl(fn: MeridianFunction): this {
    const stack = Stack.of(this);
    const groups = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule-group',
      resourceName: `${this.groupPrefix}-*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const schedules = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.groupPrefix}-*/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'CreateTenantScheduleGroups',
        // Created with the tenant's tag and no other, which Scheduler also authorizes as TagResource
        // with the same request tags: the function cannot tag a group any other way.
        actions: ['scheduler:CreateScheduleGroup', 'scheduler:TagResource'],
        resources: [groups],
        conditions: {
          Null: { [`aws:RequestTag/${TENANT_TAG}`]: 'false' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_TAG] },
        },
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ManageTenantScheduleGroups',
        actions: ['scheduler:DeleteScheduleGroup', 'scheduler:GetScheduleGroup'],
        resources: [groups],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ManageTenantSchedules',
        actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
        resources: [schedules],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'PassSchedulerRole',
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    acknowledgeWildcardResource(
      fn.role,
      groups,
      `Schedule groups are created at run time, one per tenant, named "${this.groupPrefix}-<tenant>"; the name prefix is the narrowest ARN available.`,
    );
    acknowledgeWildcardResource(
      fn.role,
      schedules,
      `Schedules are created at run time in the tenants' "${this.groupPrefix}-<tenant>" groups, named by their generated ids.`,
    );
    fn.addEnvironment('SCHEDULE_GROUP_PREFIX', this.groupPrefix)
      .addEnvironment('SCHEDULE_FIRE_ARN', this.fire.function.functionArn)
      .addEnvironment('SCHEDULER_ROLE_ARN', this.schedulerRole.roleArn);
    return this;
  }
}
