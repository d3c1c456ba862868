import type { PlatformItems } from './constructs/function.ts';

/**
 * The one list of the AWS calls Meridian's functions make: for each SDK command in functions/, the
 * file that sends it, the IAM actions AWS authorizes it as, what it touches, whose credentials it
 * uses and which functions run it. The roles in lib/ grant exactly this; test/infra/iam-fence.test.ts
 * proves it with an IAM simulator on both stages' templates, and fails when a file under functions/
 * sends a command this list lacks.
 */

/** The Lambda functions of a stage. */
export const FUNCTION_NAMES = [
  'api',
  'authorizer',
  'stepRunner',
  'approvalHandler',
  'statusHandler',
  'auditStream',
  'notificationDelivery',
  'scheduleFire',
  'ssoTrigger',
  'lifecycle',
] as const;

/** One of {@link FUNCTION_NAMES}. */
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/**
 * What a call touches. Tenant targets are checked for the caller's own tenant (allowed) and for
 * another tenant (denied):
 * - `tenantItem`: an item in partition `TENANT#<t>`; `executionItem`: `TENANT#<t>#EXEC#<id>`;
 *   `auditItem`: `TENANT#<t>#AUDIT`; `rateCounterItem`: `TENANT#<t>#RATE#<slot>`; `runSlotItem`:
 *   `TENANT#<t>#RUNNING`; `tenantIndex`: GSI1 partition `TENANT#<t>#EXECS` (and the
 *   pending approvals);
 * - `notificationItem`: partition `TENANT#<t>#NOTIFY` (a tenant's notifications and delivery logs);
 * - `tenantArtifact`: object `tenants/<t>/...` of the artifacts bucket; `tenantArtifactListing`:
 *   listing that bucket with prefix `tenants/<t>/`; `tenantSecret`: secret
 *   `<SECRETS_PREFIX>/<t>/<name>`.
 * - `lifecycleMachine`: the offboarding and export state machines (lib/constructs/lifecycle.ts).
 * - `tenantMachine`, `tenantExecution`: the tenant's workflow state machine `meridian-<stage>-<t>-<w>`
 *   (tagged with the tenant) and an execution of it, reached on the tenant's session.
 * - `tenantAuditDigest`: object `digests/tenant=<t>/<seq>.json` of the audit archive bucket;
 *   `tenantAuditDigestListing`: listing that bucket with prefix `digests/tenant=<t>/`.
 * `scheduleGroup` and `schedule`: a tenant's EventBridge Scheduler group `meridian-<stage>-<t>` and a
 * schedule in it (fenced by name prefix, like state machines); `schedulerRole`: the role schedules
 * invoke the fire function with.
 * Platform targets name their keys: `platformItem:<pk>`, `platformIndex:<gsi1pk>`. The audit stream
 * consumer's targets are every tenant's by design (one batch holds many tenants' records):
 * `everyTenantAuditItem` (partition `TENANT#<any>#AUDIT` only), `archiveRecords` and `archiveDigest`
 * (objects `records/tenant=<any>/...` and `digests/tenant=<any>/...`), and `signingKey` (the digest
 * signing key). `notificationQueue`, `notificationDeadLetterQueue`: the delivery queues;
 * `notificationSender`: the SES identity of the configured sender.
 */
export type Target =
  | 'tenantItem'
  | 'executionItem'
  | 'auditItem'
  | 'rateCounterItem'
  | 'runSlotItem'
  | 'tenantIndex'
  | 'notificationItem'
  | 'tenantArtifact'
  | 'tenantArtifactListing'
  | 'tenantSecret'
  | 'tenantAuditDigest'
  | 'tenantAuditDigestListing'
  | 'everyTenantAuditItem'
  | 'archiveRecords'
  | 'archiveDigest'
  | 'signingKey'
  | `platformItem:${string}`
  | `platformIndex:${string}`
  | 'auditBucket'
  | 'userPool'
  | 'tenantMachine'
  | 'lifecycleMachine'
  | 'tenantExecution'
  | 'taskToken'
  | 'bedrockModel'
  | 'tenantDataRole'
  | 'workflowRole'
  | 'notificationQueue'
  | 'notificationDeadLetterQueue'
  | 'notificationSender'
  | 'scheduleGroup'
  | 'schedule'
  | 'schedulerRole';

/** One SDK command as sent from one file. */
export interface AwsCall {
  /** The file under functions/ that sends it. */
  readonly file: string;
  /** The SDK command class, e.g. `GetCommand`. */
  readonly command: string;
  /** The IAM actions AWS authorizes it as (a transaction: each of its item actions). */
  readonly actions: readonly string[];
  /** What it touches. */
  readonly targets: readonly Target[];
  /** `tenantRole`: the function's tenant data role, tagged with the tenant; `functionRole`: its own. */
  readonly via: 'tenantRole' | 'functionRole';
  /** The functions that send it. */
  readonly functions: readonly FunctionName[];
}

/** The functions that serve tenants: each reaches tenant data only through its tenant data role. */
const TENANT_FACING: readonly FunctionName[] = FUNCTION_NAMES.filter((f) => f !== 'auditStream');
/**
 * The functions Cognito calls with a sign-in: the authorizer reads the caller's user, tenant, roles
 * and key, the SSO trigger provisions a user. Neither reads executions or the audit chain, nor lists
 * a tenant partition but the SSO trigger's users.
 */
const SIGN_IN: readonly FunctionName[] = ['authorizer', 'ssoTrigger'];
/** The functions that read the audit chain: the API (GET /audit, verify) and the lifecycle jobs. */
const AUDIT_READERS: readonly FunctionName[] = ['api', 'lifecycle'];
/** The other workflow functions: the tenant's partition, its executions and their index. */
const RUNNERS: readonly FunctionName[] = ['approvalHandler', 'statusHandler', 'scheduleFire'];
/** Functions that raise notification events: each queues deliveries, or an event (the step runner). */
const PUBLISHERS: readonly FunctionName[] = ['api', 'stepRunner', 'approvalHandler', 'statusHandler'];
/**
 * Functions that fan events out (functions/core/notifications/service.ts publish): the step runner
 * hands its budget alerts to the delivery function instead (functions/adapters/wiring/step-runner.ts),
 * so it reaches no notification partition.
 */
const FAN_OUT: readonly FunctionName[] = ['api', 'approvalHandler', 'statusHandler', 'notificationDelivery'];
const WORKFLOW: readonly FunctionName[] = [
  'api',
  'stepRunner',
  'approvalHandler',
  'statusHandler',
  'scheduleFire',
];
/** The workflow functions besides `except`: a file whose code those do not bundle. */
const workflowBut = (...except: FunctionName[]) => WORKFLOW.filter((f) => !except.includes(f));
const TENANT_PARTITIONS: readonly Target[] = ['tenantItem', 'executionItem', 'auditItem'];
/** What offboarding walks and deletes (functions/adapters/dynamo/lifecycle-store.ts erase). */
const ERASED_PARTITIONS: readonly Target[] = [
  ...TENANT_PARTITIONS,
  'rateCounterItem',
  'runSlotItem',
  'notificationItem',
];
// No transaction holds a ConditionCheck, so none is granted.
const TRANSACTION = ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

/**
 * Platform-level items, reached with the function's own role because they belong to no tenant (or
 * the tenant is not known yet), and the one platform-level function's every-tenant audit partitions
 * (the stream consumer, see lib/constructs/audit-stream.ts). Nothing else of the table is reachable
 * without a tenant data role.
 */
export const PLATFORM_ITEMS = {
  /** The readiness probe's fixed item (GET /health/ready; it need not exist). */
  health: { sid: 'ReadinessItem', actions: ['dynamodb:GetItem'], on: 'table', leadingKeys: ['HEALTH'] },
  /** The tenant list a platform admin pages through (GET /tenants). */
  tenantList: { sid: 'TenantList', actions: ['dynamodb:Query'], on: 'index', leadingKeys: ['TENANTS'] },
  /** Login to tenant: the authorizer finds the user of a verified Cognito `sub` before it knows the tenant. */
  userBySub: { sid: 'UserBySub', actions: ['dynamodb:Query'], on: 'index', leadingKeys: ['SUB#*'] },
  /**
   * The audit stream consumer, for every tenant: the latest digest (Query), the next one claimed
   * (PutItem) and the TTL set on archived records (UpdateItem), in the audit partitions
   * `TENANT#<t>#AUDIT` only; no other partition of any tenant.
   */
  /**
   * Email-domain claims of single sign-on (`SSODOMAIN#<domain>`): one item per domain, platform-wide
   * so that no two tenants route the same domain (claimed and released by the API).
   */
  ssoDomains: {
    sid: 'SsoDomainClaims',
    actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
    on: 'table',
    leadingKeys: ['SSODOMAIN#*'],
  },
  /**
   * The lease that serializes the read-modify-write of the one Cognito app client every tenant's SSO
   * provider is listed on (`LEASE#COGNITO-APP-CLIENT`): taken and released by the API.
   */
  appClientLease: {
    sid: 'AppClientLease',
    actions: ['dynamodb:DeleteItem', 'dynamodb:PutItem'],
    on: 'table',
    leadingKeys: ['LEASE#COGNITO-APP-CLIENT'],
  },
  auditPartitions: {
    sid: 'EveryTenantAuditPartition',
    actions: ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    on: 'table',
    leadingKeys: ['TENANT#*#AUDIT'],
  },
} as const satisfies Record<string, PlatformItems>;

/** Every AWS call of every function. */
export const AWS_CALLS: readonly AwsCall[] = [
  // The tenant data role itself: every function reaches tenant data only through it.
  {
    file: 'functions/adapters/tenant-credentials.ts',
    command: 'AssumeRoleCommand',
    actions: ['sts:AssumeRole', 'sts:TagSession'],
    targets: ['tenantDataRole'],
    via: 'functionRole',
    functions: TENANT_FACING,
  },
  // The single table, through the tenant data role: reads and lists on TableBase (table-base.ts), paged
  // lists and audited transactions on Table (table.ts).
  {
    file: 'functions/adapters/dynamo/table-base.ts',
    command: 'GetCommand',
    actions: ['dynamodb:GetItem'],
    targets: TENANT_PARTITIONS,
    via: 'tenantRole',
    functions: AUDIT_READERS,
  },
  {
    file: 'functions/adapters/dynamo/table-base.ts',
    command: 'GetCommand',
    actions: ['dynamodb:GetItem'],
    targets: ['tenantItem', 'executionItem'],
    via: 'tenantRole',
    functions: [...RUNNERS, 'stepRunner'],
  },
  {
    file: 'functions/adapters/dynamo/table-base.ts',
    command: 'GetCommand',
    actions: ['dynamodb:GetItem'],
    targets: ['tenantItem'],
    via: 'tenantRole',
    functions: [...SIGN_IN, 'notificationDelivery'],
  },
  {
    file: 'functions/adapters/dynamo/table-base.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: ['tenantItem', 'executionItem'],
    via: 'tenantRole',
    functions: ['stepRunner'],
  },
  {
    file: 'functions/adapters/dynamo/table.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: [...TENANT_PARTITIONS, 'tenantIndex'],
    via: 'tenantRole',
    functions: AUDIT_READERS,
  },
  {
    file: 'functions/adapters/dynamo/table.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: ['tenantItem', 'executionItem', 'tenantIndex'],
    via: 'tenantRole',
    functions: RUNNERS,
  },
  {
    file: 'functions/adapters/dynamo/table-base.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: [...TENANT_PARTITIONS, 'tenantIndex'],
    via: 'tenantRole',
    functions: AUDIT_READERS,
  },
  {
    file: 'functions/adapters/dynamo/table-base.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: ['tenantItem', 'executionItem', 'tenantIndex'],
    via: 'tenantRole',
    functions: RUNNERS,
  },
  {
    // The SSO trigger lists the tenant's users; the delivery function its users and channels.
    file: 'functions/adapters/dynamo/table.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: ['tenantItem'],
    via: 'tenantRole',
    functions: ['ssoTrigger', 'notificationDelivery'],
  },
  {
    file: 'functions/adapters/dynamo/table-base.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: ['tenantItem'],
    via: 'tenantRole',
    functions: ['notificationDelivery'],
  },
  {
    // Audited changes (Table.commit). The step runner wires TableBase alone: it writes no audit record.
    file: 'functions/adapters/dynamo/table.ts',
    command: 'TransactWriteCommand',
    actions: TRANSACTION,
    targets: ['tenantItem', 'executionItem'],
    via: 'tenantRole',
    functions: workflowBut('stepRunner'),
  },
  {
    // The SSO trigger writes the users it provisions, with their audit records.
    file: 'functions/adapters/dynamo/table.ts',
    command: 'TransactWriteCommand',
    actions: TRANSACTION,
    targets: ['tenantItem'],
    via: 'tenantRole',
    functions: ['ssoTrigger'],
  },
  {
    // Each change's audit record is a new item (a conditional Put): no committer updates or deletes
    // one. Only offboarding erases them, the consumer marks them archived, and the authorizer writes
    // auth events (audit-log.ts).
    file: 'functions/adapters/dynamo/table.ts',
    command: 'TransactWriteCommand',
    actions: ['dynamodb:PutItem'],
    targets: ['auditItem'],
    via: 'tenantRole',
    functions: [...workflowBut('stepRunner'), 'ssoTrigger'],
  },
  // Table.page('platform', ...) and TableBase.queryIndex: the platform-level lookups.
  {
    file: 'functions/adapters/dynamo/table.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: ['platformIndex:TENANTS'],
    via: 'functionRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/dynamo/table-base.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: ['platformIndex:SUB#0c1e5f7a-user'],
    via: 'functionRole',
    functions: ['authorizer'],
  },
  {
    file: 'functions/adapters/dynamo/execution-store.ts',
    command: 'GetCommand',
    actions: ['dynamodb:GetItem'],
    targets: ['tenantItem', 'executionItem'],
    via: 'tenantRole',
    functions: workflowBut('stepRunner', 'scheduleFire'),
  },
  {
    file: 'functions/adapters/dynamo/execution-store.ts',
    command: 'UpdateCommand',
    actions: ['dynamodb:UpdateItem'],
    targets: ['tenantItem', 'executionItem'],
    via: 'tenantRole',
    functions: workflowBut('stepRunner', 'scheduleFire'),
  },
  // The execution store is three adapters over the same items (execution-starts.ts for the start
  // path, execution-steps.ts for step records and charges, execution-items.ts their shared update).
  {
    file: 'functions/adapters/dynamo/execution-starts.ts',
    command: 'UpdateCommand',
    actions: ['dynamodb:UpdateItem'],
    targets: ['tenantItem', 'executionItem'],
    via: 'tenantRole',
    functions: workflowBut('stepRunner'),
  },
  {
    file: 'functions/adapters/dynamo/execution-steps.ts',
    command: 'UpdateCommand',
    actions: ['dynamodb:UpdateItem'],
    targets: ['tenantItem', 'executionItem'],
    via: 'tenantRole',
    functions: workflowBut('scheduleFire'),
  },
  {
    file: 'functions/adapters/dynamo/execution-items.ts',
    command: 'UpdateCommand',
    actions: ['dynamodb:UpdateItem'],
    targets: ['tenantItem', 'executionItem'],
    via: 'tenantRole',
    functions: WORKFLOW,
  },
  {
    file: 'functions/adapters/dynamo/execution-store.ts',
    command: 'TransactWriteCommand',
    actions: TRANSACTION,
    targets: ['tenantItem', 'executionItem'],
    via: 'tenantRole',
    functions: workflowBut('stepRunner', 'scheduleFire'),
  },
  {
    file: 'functions/adapters/dynamo/execution-steps.ts',
    command: 'TransactWriteCommand',
    actions: TRANSACTION,
    targets: ['tenantItem', 'executionItem'],
    via: 'tenantRole',
    functions: workflowBut('scheduleFire'),
  },
  {
    // The start path's reads in one round trip: workflow head, tenant, budget, prior execution, user.
    // The schedule fire function starts executions too.
    file: 'functions/adapters/dynamo/execution-starts.ts',
    command: 'BatchGetCommand',
    actions: ['dynamodb:BatchGetItem'],
    targets: ['tenantItem', 'executionItem'],
    via: 'tenantRole',
    functions: ['api', 'scheduleFire'],
  },
  {
    // A finished step's record (finishStep): the step runner; the API and approval handler when a
    // step ends by cancellation or approval; the status handler when the execution ends with an
    // approval still pending (closePendingApproval, functions/core/approvals/steps.ts).
    file: 'functions/adapters/dynamo/execution-steps.ts',
    command: 'PutCommand',
    actions: ['dynamodb:PutItem'],
    targets: ['executionItem'],
    via: 'tenantRole',
    functions: ['api', 'stepRunner', 'approvalHandler', 'statusHandler'],
  },
  // Notifications: channels live in the tenant partition (table-base.ts, table.ts above);
  // notifications and their delivery logs in `TENANT#<t>#NOTIFY`.
  {
    file: 'functions/adapters/dynamo/table-base.ts',
    command: 'GetCommand',
    actions: ['dynamodb:GetItem'],
    targets: ['notificationItem'],
    via: 'tenantRole',
    functions: ['api', 'notificationDelivery'],
  },
  {
    // GET /notifications (a page).
    file: 'functions/adapters/dynamo/table.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: ['notificationItem'],
    via: 'tenantRole',
    functions: ['api'],
  },
  {
    // The offboarding sweep (deleteAllForTenant, run from the API): every notification.
    file: 'functions/adapters/dynamo/table-base.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: ['notificationItem'],
    via: 'tenantRole',
    functions: ['api'],
  },
  {
    // The fan-out: one pending notification per destination of an event.
    file: 'functions/adapters/dynamo/notification-store.ts',
    command: 'PutCommand',
    actions: ['dynamodb:PutItem'],
    targets: ['notificationItem'],
    via: 'tenantRole',
    functions: FAN_OUT,
  },
  {
    // One delivery attempt appended to the log (conditional on the attempt count).
    file: 'functions/adapters/dynamo/notification-store.ts',
    command: 'UpdateCommand',
    actions: ['dynamodb:UpdateItem'],
    targets: ['notificationItem'],
    via: 'tenantRole',
    functions: ['notificationDelivery'],
  },
  {
    // deleteAllForTenant: the tenant offboarding job, run from the API.
    file: 'functions/adapters/dynamo/notification-store.ts',
    command: 'DeleteCommand',
    actions: ['dynamodb:DeleteItem'],
    targets: ['tenantItem', 'notificationItem'],
    via: 'tenantRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/notifications/queues.ts',
    command: 'SendMessageCommand',
    actions: ['sqs:SendMessage'],
    targets: ['notificationQueue'],
    via: 'functionRole',
    functions: [...PUBLISHERS, 'notificationDelivery'],
  },
  {
    file: 'functions/adapters/notifications/queues.ts',
    command: 'SendMessageCommand',
    actions: ['sqs:SendMessage'],
    targets: ['notificationDeadLetterQueue'],
    via: 'functionRole',
    functions: ['notificationDelivery'],
  },
  {
    file: 'functions/adapters/notifications/mailers.ts',
    command: 'SendEmailCommand',
    actions: ['ses:SendEmail'],
    targets: ['notificationSender'],
    via: 'functionRole',
    functions: ['notificationDelivery'],
  },
  {
    file: 'functions/adapters/dynamo/budget-store.ts',
    command: 'PutCommand',
    actions: ['dynamodb:PutItem'],
    targets: ['tenantItem'],
    via: 'tenantRole',
    functions: ['api', 'stepRunner'],
  },
  {
    // Roles by name: the authorizer and API, and the fan-out of a pending approval (who may decide).
    file: 'functions/adapters/dynamo/role-store.ts',
    command: 'BatchGetCommand',
    actions: ['dynamodb:BatchGetItem'],
    targets: ['tenantItem'],
    via: 'tenantRole',
    functions: ['api', 'authorizer', 'approvalHandler', 'ssoTrigger'],
  },
  // Rate limits: one counter item per tenant (or key) and time slot, raised by an atomic ADD.
  {
    file: 'functions/adapters/dynamo/rate-limit-store.ts',
    command: 'UpdateCommand',
    actions: ['dynamodb:UpdateItem'],
    targets: ['rateCounterItem'],
    via: 'tenantRole',
    functions: ['api'],
  },
  // The concurrency bulkhead: a run slot per running execution, claimed at start, given back when
  // the execution ends (status handler) or is cancelled.
  ...(
    [
      ['PutCommand', 'dynamodb:PutItem', ['api', 'scheduleFire']],
      // Giving a slot back reads the slots first (run-slot-store.ts release).
      ['QueryCommand', 'dynamodb:Query', ['api', 'statusHandler', 'scheduleFire']],
      ['DeleteCommand', 'dynamodb:DeleteItem', ['api', 'statusHandler', 'scheduleFire']],
    ] as const
  ).map(
    ([command, action, functions]): AwsCall => ({
      file: 'functions/adapters/dynamo/run-slot-store.ts',
      command,
      actions: [action],
      targets: ['runSlotItem'],
      via: 'tenantRole',
      functions,
    }),
  ),
  {
    // An API key's last use, recorded by the authorizer.
    file: 'functions/adapters/dynamo/api-key-store.ts',
    command: 'UpdateCommand',
    actions: ['dynamodb:UpdateItem'],
    targets: ['tenantItem'],
    via: 'tenantRole',
    functions: ['api', 'authorizer'],
  },
  {
    // Auth events (denied credentials, a key's first use in a window), written by the authorizer as
    // audit records of their own (a conditional UpdateItem): functions/handlers/authorizer.ts alone
    // wires auditAuth.
    file: 'functions/adapters/dynamo/audit-log.ts',
    command: 'UpdateCommand',
    actions: ['dynamodb:UpdateItem'],
    targets: ['auditItem'],
    via: 'tenantRole',
    functions: ['authorizer'],
  },
  // Large step outputs, under the tenant's prefix (per-tenant S3 clients).
  {
    file: 'functions/adapters/s3-artifacts.ts',
    command: 'PutObjectCommand',
    actions: ['s3:PutObject'],
    targets: ['tenantArtifact'],
    via: 'tenantRole',
    functions: ['api', 'stepRunner'],
  },
  {
    file: 'functions/adapters/s3-artifacts.ts',
    command: 'GetObjectCommand',
    actions: ['s3:GetObject'],
    targets: ['tenantArtifact'],
    via: 'tenantRole',
    functions: ['api', 'stepRunner'],
  },
  // Tenant secrets, under the tenant's path.
  ...(
    [
      'CreateSecretCommand',
      'PutSecretValueCommand',
      'DeleteSecretCommand',
      'DescribeSecretCommand',
      'RestoreSecretCommand',
    ] as const
  ).map(
    (command): AwsCall => ({
      file: 'functions/adapters/secret-vault.ts',
      command,
      actions: {
        // Created with a TenantId tag, which Secrets Manager also authorizes as TagResource.
        CreateSecretCommand: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
        PutSecretValueCommand: ['secretsmanager:PutSecretValue'],
        DeleteSecretCommand: ['secretsmanager:DeleteSecret'],
        // A secret scheduled for deletion is restored before it is written again.
        DescribeSecretCommand: ['secretsmanager:DescribeSecret'],
        RestoreSecretCommand: ['secretsmanager:RestoreSecret'],
      }[command],
      targets: ['tenantSecret'],
      via: 'tenantRole',
      // Offboarding deletes the tenant's secrets (and only that).
      functions: command === 'DeleteSecretCommand' ? ['api', 'lifecycle'] : ['api'],
    }),
  ),
  {
    file: 'functions/adapters/secret-vault.ts',
    command: 'GetSecretValueCommand',
    actions: ['secretsmanager:GetSecretValue'],
    targets: ['tenantSecret'],
    via: 'tenantRole',
    // The delivery function reads webhook signing secrets and Slack URLs.
    functions: ['api', 'stepRunner', 'notificationDelivery'],
  },
  // The readiness probe.
  {
    file: 'functions/adapters/readiness.ts',
    command: 'GetCommand',
    actions: ['dynamodb:GetItem'],
    targets: ['platformItem:HEALTH'],
    via: 'functionRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/readiness.ts',
    command: 'GetBucketLocationCommand',
    actions: ['s3:GetBucketLocation'],
    targets: ['auditBucket'],
    via: 'functionRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/readiness.ts',
    command: 'DescribeUserPoolCommand',
    actions: ['cognito-idp:DescribeUserPool'],
    targets: ['userPool'],
    via: 'functionRole',
    functions: ['api'],
  },
  // Users of the pool (Cognito has no tenant-level IAM condition: code fences these).
  ...(
    [
      ['AdminCreateUserCommand', 'cognito-idp:AdminCreateUser'],
      ['AdminDisableUserCommand', 'cognito-idp:AdminDisableUser'],
      ['AdminEnableUserCommand', 'cognito-idp:AdminEnableUser'],
      ['AdminDeleteUserCommand', 'cognito-idp:AdminDeleteUser'],
    ] as const
  ).map(
    ([command, action]): AwsCall => ({
      file: 'functions/adapters/cognito-directory.ts',
      command,
      actions: [action],
      targets: ['userPool'],
      via: 'functionRole',
      // Offboarding deletes the tenant's logins too.
      functions: command === 'AdminDeleteUserCommand' ? ['api', 'lifecycle'] : ['api'],
    }),
  ),
  // Single sign-on: each tenant provider is a Cognito identity provider offered by the app client.
  ...(
    [
      ['CreateIdentityProviderCommand', 'cognito-idp:CreateIdentityProvider'],
      ['DeleteIdentityProviderCommand', 'cognito-idp:DeleteIdentityProvider'],
      // A verified domain joins the provider's identifiers (functions/core/identity/domains.ts).
      ['UpdateIdentityProviderCommand', 'cognito-idp:UpdateIdentityProvider'],
      ['DescribeUserPoolClientCommand', 'cognito-idp:DescribeUserPoolClient'],
      ['UpdateUserPoolClientCommand', 'cognito-idp:UpdateUserPoolClient'],
    ] as const
  ).map(
    ([command, action]): AwsCall => ({
      file: 'functions/adapters/cognito-federation.ts',
      command,
      actions: [action],
      targets: ['userPool'],
      via: 'functionRole',
      functions: ['api'],
    }),
  ),
  // The email-domain claims (PLATFORM_ITEMS.ssoDomains), with the API's own role.
  ...(
    [
      ['PutCommand', 'dynamodb:PutItem'],
      ['DeleteCommand', 'dynamodb:DeleteItem'],
      ['GetCommand', 'dynamodb:GetItem'],
    ] as const
  ).map(
    ([command, action]): AwsCall => ({
      file: 'functions/adapters/dynamo/identity-provider-store.ts',
      command,
      actions: [action],
      targets: ['platformItem:SSODOMAIN#acme.example.com'],
      via: 'functionRole',
      functions: ['api'],
    }),
  ),
  // The app-client lease (PLATFORM_ITEMS.appClientLease) around CognitoFederation's client update.
  ...(
    [
      ['PutCommand', 'dynamodb:PutItem'],
      ['DeleteCommand', 'dynamodb:DeleteItem'],
    ] as const
  ).map(
    ([command, action]): AwsCall => ({
      file: 'functions/adapters/dynamo/lease.ts',
      command,
      actions: [action],
      targets: ['platformItem:LEASE#COGNITO-APP-CLIENT'],
      via: 'functionRole',
      functions: ['api'],
    }),
  ),
  // Workflow state machines (named `meridian-<stage>-<tenant>-...`, tagged with the tenant), each
  // reached on the session of the tenant it belongs to (lib/constructs/tenant-data-role.ts).
  {
    file: 'functions/adapters/sfn-engine.ts',
    command: 'CreateStateMachineCommand',
    actions: ['states:CreateStateMachine', 'states:TagResource', 'states:PublishStateMachineVersion'],
    targets: ['tenantMachine'],
    via: 'tenantRole',
    functions: ['api'],
  },
  {
    // The new machine runs as the workflow role: passing it is authorized separately.
    file: 'functions/adapters/sfn-engine.ts',
    command: 'CreateStateMachineCommand',
    actions: ['iam:PassRole'],
    targets: ['workflowRole'],
    via: 'tenantRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/sfn-engine.ts',
    command: 'UpdateStateMachineCommand',
    actions: ['states:UpdateStateMachine', 'states:PublishStateMachineVersion'],
    targets: ['tenantMachine'],
    via: 'tenantRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/sfn-engine.ts',
    command: 'CreateStateMachineAliasCommand',
    actions: ['states:CreateStateMachineAlias'],
    targets: ['tenantMachine'],
    via: 'tenantRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/sfn-engine.ts',
    command: 'UpdateStateMachineAliasCommand',
    actions: ['states:UpdateStateMachineAlias'],
    targets: ['tenantMachine'],
    via: 'tenantRole',
    functions: ['api'],
  },
  // Version housekeeping (at most 1,000 versions a machine).
  ...(
    [
      ['ListStateMachineVersionsCommand', 'states:ListStateMachineVersions'],
      ['ListStateMachineAliasesCommand', 'states:ListStateMachineAliases'],
      ['DescribeStateMachineAliasCommand', 'states:DescribeStateMachineAlias'],
      ['DeleteStateMachineVersionCommand', 'states:DeleteStateMachineVersion'],
    ] as const
  ).map(
    ([command, action]): AwsCall => ({
      file: 'functions/adapters/sfn-engine.ts',
      command,
      actions: [action],
      targets: ['tenantMachine'],
      via: 'tenantRole',
      functions: ['api'],
    }),
  ),
  {
    // Deleting a deleted workflow's machine; offboarding deletes every machine of the tenant.
    file: 'functions/adapters/sfn-engine.ts',
    command: 'DeleteStateMachineCommand',
    actions: ['states:DeleteStateMachine'],
    targets: ['tenantMachine'],
    via: 'tenantRole',
    functions: ['api', 'lifecycle'],
  },
  {
    file: 'functions/adapters/sfn-executions.ts',
    command: 'StartExecutionCommand',
    actions: ['states:StartExecution'],
    targets: ['tenantMachine'],
    via: 'tenantRole',
    functions: ['api', 'scheduleFire'],
  },
  // Schedules: one EventBridge Scheduler schedule per Meridian schedule, in a group per tenant.
  {
    file: 'functions/adapters/eventbridge-scheduler.ts',
    command: 'CreateScheduleCommand',
    actions: ['scheduler:CreateSchedule'],
    targets: ['schedule'],
    via: 'functionRole',
    functions: ['api'],
  },
  {
    // The schedule invokes the fire function as the scheduler role: passing it is authorized separately.
    file: 'functions/adapters/eventbridge-scheduler.ts',
    command: 'CreateScheduleCommand',
    actions: ['iam:PassRole'],
    targets: ['schedulerRole'],
    via: 'functionRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/eventbridge-scheduler.ts',
    command: 'DeleteScheduleCommand',
    actions: ['scheduler:DeleteSchedule'],
    targets: ['schedule'],
    via: 'functionRole',
    functions: ['api'],
  },
  {
    // Created with a TenantId tag, which Scheduler also authorizes as TagResource.
    file: 'functions/adapters/eventbridge-scheduler.ts',
    command: 'CreateScheduleGroupCommand',
    actions: ['scheduler:CreateScheduleGroup', 'scheduler:TagResource'],
    targets: ['scheduleGroup'],
    via: 'functionRole',
    functions: ['api'],
  },
  ...(
    [
      ['GetScheduleGroupCommand', 'scheduler:GetScheduleGroup'],
      // Offboarding a tenant (deleteAllForTenant): its group, with every schedule in it.
      ['DeleteScheduleGroupCommand', 'scheduler:DeleteScheduleGroup'],
    ] as const
  ).map(
    ([command, action]): AwsCall => ({
      file: 'functions/adapters/eventbridge-scheduler.ts',
      command,
      actions: [action],
      targets: ['scheduleGroup'],
      via: 'functionRole',
      functions: ['api'],
    }),
  ),
  {
    // Cancelling an execution; offboarding stops the tenant's running executions first.
    file: 'functions/adapters/sfn-executions.ts',
    command: 'StopExecutionCommand',
    actions: ['states:StopExecution'],
    targets: ['tenantExecution'],
    via: 'tenantRole',
    functions: ['api', 'lifecycle'],
  },
  {
    file: 'functions/adapters/sfn-executions.ts',
    command: 'RedriveExecutionCommand',
    actions: ['states:RedriveExecution'],
    targets: ['tenantExecution'],
    via: 'tenantRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/sfn-executions.ts',
    command: 'SendTaskSuccessCommand',
    actions: ['states:SendTaskSuccess'],
    targets: ['taskToken'],
    via: 'functionRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/sfn-executions.ts',
    command: 'SendTaskFailureCommand',
    actions: ['states:SendTaskFailure'],
    targets: ['taskToken'],
    via: 'functionRole',
    functions: ['api'],
  },
  // The audit archive. The API reads the session tenant's digests (GET /audit/verify) through its
  // tenant data role; the stream consumer writes every tenant's records and digests with its own role.
  {
    file: 'functions/adapters/audit/s3-archive.ts',
    command: 'ListObjectsV2Command',
    actions: ['s3:ListBucket'],
    targets: ['tenantAuditDigestListing'],
    via: 'tenantRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/audit/s3-archive.ts',
    command: 'GetObjectCommand',
    actions: ['s3:GetObject'],
    targets: ['tenantAuditDigest'],
    via: 'tenantRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/audit/s3-archive.ts',
    command: 'PutObjectCommand',
    actions: ['s3:PutObject'],
    targets: ['archiveRecords', 'archiveDigest'],
    via: 'functionRole',
    functions: ['auditStream'],
  },
  // Digest signing: the consumer signs, the API serves the public key (GET /audit/public-key, verify).
  {
    file: 'functions/adapters/audit/signers.ts',
    command: 'SignCommand',
    actions: ['kms:Sign'],
    targets: ['signingKey'],
    via: 'functionRole',
    functions: ['auditStream'],
  },
  {
    file: 'functions/adapters/audit/signers.ts',
    command: 'GetPublicKeyCommand',
    actions: ['kms:GetPublicKey'],
    targets: ['signingKey'],
    via: 'functionRole',
    functions: ['api'],
  },
  // The consumer's digest index and record TTLs, in every tenant's audit partition (PLATFORM_ITEMS.auditPartitions).
  ...(
    [
      ['QueryCommand', 'dynamodb:Query'],
      ['PutCommand', 'dynamodb:PutItem'],
      ['UpdateCommand', 'dynamodb:UpdateItem'],
    ] as const
  ).map(
    ([command, action]): AwsCall => ({
      file: 'functions/adapters/dynamo/digest-index.ts',
      command,
      actions: [action],
      targets: ['everyTenantAuditItem'],
      via: 'functionRole',
      functions: ['auditStream'],
    }),
  ),
  // Tenant lifecycle (lib/constructs/lifecycle.ts): offboarding and export jobs, their job records,
  // and the tenant's partitions walked (never scanned) and erased through the tenant data role.
  {
    file: 'functions/adapters/dynamo/lifecycle-store.ts',
    command: 'PutCommand',
    actions: ['dynamodb:PutItem'],
    targets: ['tenantItem'],
    via: 'tenantRole',
    functions: ['api', 'lifecycle'],
  },
  {
    file: 'functions/adapters/dynamo/lifecycle-store.ts',
    command: 'QueryCommand',
    actions: ['dynamodb:Query'],
    targets: [...ERASED_PARTITIONS, 'tenantIndex'],
    via: 'tenantRole',
    functions: ['lifecycle'],
  },
  {
    file: 'functions/adapters/dynamo/lifecycle-store.ts',
    command: 'BatchWriteCommand',
    actions: ['dynamodb:BatchWriteItem'],
    targets: ERASED_PARTITIONS,
    via: 'tenantRole',
    functions: ['lifecycle'],
  },
  {
    file: 'functions/adapters/job-runner.ts',
    command: 'StartExecutionCommand',
    actions: ['states:StartExecution'],
    targets: ['lifecycleMachine'],
    via: 'functionRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/s3-tenant-data.ts',
    command: 'ListObjectsV2Command',
    actions: ['s3:ListBucket'],
    targets: ['tenantArtifactListing'],
    via: 'tenantRole',
    // Offboarding lists to delete; the API (cancel) and status handler list to tag for retention.
    functions: ['api', 'statusHandler', 'lifecycle'],
  },
  {
    file: 'functions/adapters/s3-tenant-data.ts',
    command: 'ListObjectVersionsCommand',
    actions: ['s3:ListBucketVersions'],
    targets: ['tenantArtifactListing'],
    via: 'tenantRole',
    functions: ['lifecycle'],
  },
  {
    file: 'functions/adapters/s3-tenant-data.ts',
    command: 'DeleteObjectsCommand',
    // Authorized per object as DeleteObject, or DeleteObjectVersion with a version id.
    actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
    targets: ['tenantArtifact'],
    via: 'tenantRole',
    functions: ['lifecycle'],
  },
  // The export file: one PutObject, or a multipart upload (each step authorized as s3:PutObject).
  ...[
    'PutObjectCommand',
    'CreateMultipartUploadCommand',
    'UploadPartCommand',
    'CompleteMultipartUploadCommand',
  ].map(
    (command): AwsCall => ({
      file: 'functions/adapters/s3-tenant-data.ts',
      command,
      actions: ['s3:PutObject'],
      targets: ['tenantArtifact'],
      via: 'tenantRole',
      functions: ['lifecycle'],
    }),
  ),
  {
    // The export's download link: presigned by the API with its tenant session.
    file: 'functions/adapters/s3-tenant-data.ts',
    command: 'GetObjectCommand',
    actions: ['s3:GetObject'],
    targets: ['tenantArtifact'],
    via: 'tenantRole',
    functions: ['api'],
  },
  {
    file: 'functions/adapters/s3-tenant-data.ts',
    command: 'PutObjectTaggingCommand',
    actions: ['s3:PutObjectTagging'],
    targets: ['tenantArtifact'],
    via: 'tenantRole',
    functions: ['api', 'statusHandler'],
  },
  // Model calls.
  {
    file: 'functions/adapters/providers/bedrock.ts',
    command: 'ConverseCommand',
    actions: ['bedrock:InvokeModel'],
    targets: ['bedrockModel'],
    via: 'functionRole',
    functions: ['stepRunner'],
  },
];

/**
 * The partitions of each tenant item target, as `dynamodb:LeadingKeys` patterns (StringLike) with
 * `<t>` for the tenant id: the keys functions/adapters/dynamo/item-keys.ts builds. A tenant data role
 * allows each item action only on the partitions of the targets its function's calls name.
 */
export const TENANT_ITEM_PARTITIONS = {
  tenantItem: ['TENANT#<t>'],
  executionItem: ['TENANT#<t>#EXEC#*'],
  auditItem: ['TENANT#<t>#AUDIT'],
  rateCounterItem: ['TENANT#<t>#RATE#*'],
  runSlotItem: ['TENANT#<t>#RUNNING'],
  // GSI1 partitions: a Query on the index is authorized on the index's partition key.
  tenantIndex: ['TENANT#<t>#EXECS', 'TENANT#<t>#APPROVALS#*'],
  notificationItem: ['TENANT#<t>#NOTIFY'],
} as const satisfies Partial<Record<Target, readonly string[]>>;

/** A target of {@link TENANT_ITEM_PARTITIONS}. */
export type TenantItemTarget = keyof typeof TENANT_ITEM_PARTITIONS;

/** The tenant item targets in the order grants name them. */
export const TENANT_ITEM_TARGETS = Object.keys(TENANT_ITEM_PARTITIONS) as TenantItemTarget[];

const isTenantItemTarget = (target: Target): target is TenantItemTarget => target in TENANT_ITEM_PARTITIONS;

/**
 * What `fn`'s tenant data role allows on the table: each DynamoDB item action its listed calls make,
 * on the partitions of the tenant targets those calls name. Actions with the same partitions share a
 * grant. One grant per action holds all of its partitions, since a batch is authorized once for
 * every key it names (ForAllValues).
 */
export function tenantItemGrants(fn: FunctionName): TenantItemGrant[] {
  const byAction = new Map<string, Set<TenantItemTarget>>();
  for (const call of AWS_CALLS.filter((c) => c.via === 'tenantRole' && c.functions.includes(fn))) {
    for (const action of call.actions.filter((a) => a.startsWith('dynamodb:'))) {
      const targets = byAction.get(action) ?? new Set<TenantItemTarget>();
      for (const target of call.targets.filter(isTenantItemTarget)) targets.add(target);
      byAction.set(action, targets);
    }
  }
  const grants = new Map<string, TenantItemGrant>();
  for (const [action, set] of [...byAction].sort(([a], [b]) => a.localeCompare(b))) {
    if (set.size === 0)
      throw new Error(`${fn}: ${action} on its tenant data role names no tenant item target`);
    const targets = TENANT_ITEM_TARGETS.filter((t) => set.has(t));
    const grant = grants.get(targets.join()) ?? {
      actions: [],
      targets,
      partitions: targets.flatMap((t) => TENANT_ITEM_PARTITIONS[t]),
    };
    grant.actions.push(action);
    grants.set(targets.join(), grant);
  }
  return [...grants.values()];
}

/** Item actions on the partitions of some tenant item targets (`<t>` for the tenant id). */
export interface TenantItemGrant {
  readonly actions: string[];
  readonly targets: readonly TenantItemTarget[];
  readonly partitions: readonly string[];
}

/** The DynamoDB item actions `fn` makes through its tenant data role, on whichever partitions. */
export function tenantItemActions(fn: FunctionName): string[] {
  return [...new Set(tenantItemGrants(fn).flatMap((g) => g.actions))].sort();
}
