import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { ArnPrincipal, Effect, type IRole, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { TENANT_TAG, WORKFLOW_TAG } from '#shared/resource-names.ts';
import type { TenantItemGrant } from '../aws-calls.ts';
import { acknowledgeWildcardResource } from '../compliance.ts';
import type { StageName } from '../config.ts';
import {
  TABLE_ITEM_READ_ACTIONS,
  TABLE_ITEM_WRITE_ACTIONS,
  tableKeyActions,
  tableResourceArns,
} from './storage.ts';

/** The session tag that carries the tenant into a tenant data role; IAM policy variables read it. */
export const TENANT_SESSION_TAG = TENANT_TAG;

/** Where a stage keeps tenant secrets: `meridian/<stage>/tenants/<tenantId>/<name>` (the `SECRETS_PREFIX`). */
export function tenantSecretsPrefix(stage: StageName): string {
  return `meridian/${stage}/tenants`;
}

/**
 * What a tenant data role may do with the session tenant's secrets: `manage` is the API's secret
 * management (create, rotate, delete), `read` only fetches values (the step runner's provider keys
 * and tool credentials).
 */
export type TenantSecretAccess = 'none' | 'read' | 'manage' | 'erase';

/**
 * What a tenant data role may do under `tenants/<tenant>/` of the artifacts bucket: `read` and
 * `readWrite` objects; `tag` lists the prefix and tags objects (retention, set by the status handler
 * when an execution ends); `lifecycle` lists, writes (exports) and deletes every version (offboarding).
 */
export type TenantArtifactAccess = 'read' | 'readWrite' | 'tag' | 'lifecycle';

const ARTIFACT_OBJECT_ACTIONS: Readonly<Record<TenantArtifactAccess, readonly string[]>> = {
  read: ['s3:GetObject'],
  readWrite: ['s3:GetObject', 's3:PutObject'],
  tag: ['s3:PutObjectTagging'],
  lifecycle: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObject'],
};

const ARTIFACT_LIST_ACTIONS: Readonly<Record<TenantArtifactAccess, readonly string[]>> = {
  read: [],
  readWrite: [],
  tag: ['s3:ListBucket'],
  lifecycle: ['s3:ListBucket', 's3:ListBucketVersions'],
};

/** The prefix of a tenant's objects in the artifacts bucket: `tenants/<tenantId>/`. */
export const TENANT_ARTIFACT_PREFIX = 'tenants';

/**
 * Where the audit archive keeps each tenant's objects (functions/core/audit/archiver.ts recordsKey
 * and digestKey): `records/tenant=<t>/...` and `digests/tenant=<t>/<seq>.json`.
 */
export const AUDIT_ARCHIVE_PREFIXES = { records: 'records/tenant=', digests: 'digests/tenant=' } as const;

const SECRET_ACTIONS: Readonly<Record<TenantSecretAccess, readonly string[]>> = {
  none: [],
  // Offboarding deletes the tenant's secrets and never reads them.
  erase: ['secretsmanager:DeleteSecret'],
  read: ['secretsmanager:GetSecretValue'],
  manage: [
    'secretsmanager:CreateSecret',
    'secretsmanager:DeleteSecret',
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetSecretValue',
    'secretsmanager:PutSecretValue',
    'secretsmanager:RestoreSecret',
    'secretsmanager:TagResource',
  ],
};

/** Properties of {@link createTenantDataRole}. */
export interface TenantDataRoleProps {
  /** The single table whose tenant partitions the role reaches. */
  readonly table: ITable;
  /** The stage's tenant secrets prefix, {@link tenantSecretsPrefix}. */
  readonly secretsPrefix: string;
  /** What the role may do with the tenant's secrets. */
  readonly secretAccess: TenantSecretAccess;
  /**
   * The item actions the role allows, each on the partitions of the tenant targets the function's
   * calls name: from lib/aws-calls.ts (`tenantItemGrants`).
   */
  readonly itemGrants: readonly TenantItemGrant[];
  /**
   * The artifacts bucket: objects under `tenants/<tenant>/` only (large step outputs).
   * @default - no artifact access
   */
  readonly artifacts?: {
    readonly bucket: IBucket;
    readonly access: TenantArtifactAccess | readonly TenantArtifactAccess[];
  };
  /**
   * The audit archive bucket: list and read the tenant's signed digests, `digests/tenant=<tenant>/`
   * only (GET /audit/verify). Records, other tenants' digests and every write stay out of reach.
   * @default - no archive access
   */
  readonly auditDigests?: IBucket;
  /** The one role allowed to assume this one (a function's execution role). */
  readonly trustedRole: IRole;
  /** Shown in the IAM console. */
  readonly description: string;
}

/**
 * A role a function assumes with session tag `TenantId=<tenant>` for tenant-scoped work, so IAM, not
 * only code, fences each tenant: each item action only on the partitions of the tenant that its
 * function's calls reach (`dynamodb:LeadingKeys`), requests naming no partition denied, and secrets
 * only under `<prefix>/<tenant>/`. Only `trustedRole` may assume it, and only with that tag.
 * Created as a plain `Role` under `scope` so its construct path (and logical id) is `scope/id`.
 */
export function createTenantDataRole(scope: Construct, id: string, props: TenantDataRoleProps): Role {
  const tenantTag = `\${aws:PrincipalTag/${TENANT_SESSION_TAG}}`;
  const role = new Role(scope, id, {
    description: props.description,
    // Only the trusted role, only with sts:TagSession, and only when it tags the session with a
    // tenant: an untagged session would make every policy variable below empty.
    assumedBy: new ArnPrincipal(props.trustedRole.roleArn)
      .withSessionTags()
      .withConditions({ Null: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: 'false' } }),
    maxSessionDuration: Duration.hours(1),
  });

  const tableArns = tableResourceArns(props.table);
  const itemActions = [...new Set(props.itemGrants.flatMap((g) => g.actions))].sort();
  const unknown = itemActions.filter(
    (a) => !TABLE_ITEM_READ_ACTIONS.includes(a) && !TABLE_ITEM_WRITE_ACTIONS.includes(a),
  );
  if (unknown.length > 0) throw new Error(`${id}: not item actions: ${unknown.join(', ')}`);
  const writes = itemActions.some((a) => TABLE_ITEM_WRITE_ACTIONS.includes(a));
  for (const grant of props.itemGrants) {
    const name = grant.targets.map((t) => t[0]?.toUpperCase() + t.slice(1).replace(/Item$/, '')).join('');
    role.addToPolicy(
      new PolicyStatement({
        sid: `TenantItemsOn${name}`,
        actions: [...grant.actions].sort(),
        resources: tableArns,
        // Every key the request names (item keys, query partition, batch keys) must be one of these
        // partitions of the session tenant: `TENANT#<t>`, or a sub-partition such as its executions'.
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': grant.partitions.map((p) => p.replaceAll('<t>', tenantTag)),
          },
        },
      }),
    );
  }
  role.addToPolicy(
    new PolicyStatement({
      sid: 'DenyRequestsWithoutLeadingKeys',
      effect: Effect.DENY,
      // ForAllValues is true for an empty set, so a request naming no partition key (Scan) would
      // pass the statement above; refuse it explicitly.
      actions: [...itemActions, 'dynamodb:Scan'],
      resources: tableArns,
      conditions: { Null: { 'dynamodb:LeadingKeys': 'true' } },
    }),
  );
  if (props.table.encryptionKey) {
    role.addToPolicy(
      new PolicyStatement({
        sid: 'TableKeyThroughDynamoDb',
        actions: tableKeyActions(writes ? 'readWrite' : 'read'),
        resources: [props.table.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(scope).region}.amazonaws.com` },
        },
      }),
    );
  }
  if (props.artifacts) grantTenantArtifacts(scope, role, tenantTag, props.artifacts);
  if (props.auditDigests) grantTenantDigests(scope, role, tenantTag, props.auditDigests);
  if (props.secretAccess === 'none') return role;
  const tenantSecrets = Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    resourceName: `${props.secretsPrefix}/${tenantTag}/*`,
  });
  role.addToPolicy(
    new PolicyStatement({
      sid: 'TenantSecretsOnly',
      actions: [...SECRET_ACTIONS[props.secretAccess]],
      resources: [tenantSecrets],
    }),
  );
  acknowledgeWildcardResource(
    role,
    tenantSecrets,
    'Secrets Manager appends a random suffix to every secret ARN and tenants name their own secrets, so the resource must end in "/*"; the path is fenced to the session tenant by the aws:PrincipalTag/TenantId policy variable.',
  );
  return role;
}

/**
 * What a tenant data role may do with the session tenant's workflow state machines
 * (`<prefix>-<tenant>-<workflow>`) and their executions: `control` publishes, promotes, runs, stops,
 * redrives and deletes them (the API); `start` only starts executions (the schedule fire function);
 * `retire` stops executions and deletes machines (offboarding).
 */
export type TenantWorkflowAccess = 'control' | 'start' | 'retire';

/** Options of {@link grantTenantWorkflows}. */
export interface TenantWorkflowGrant {
  /** The state machine name prefix, `meridian-<stage>`. */
  readonly prefix: string;
  readonly access: TenantWorkflowAccess;
  /** `control` only: the role every workflow machine runs as, which creating one passes. */
  readonly workflowRole?: IRole;
}

/**
 * Lets a tenant data role act on the session tenant's workflow machines only: their names start
 * with `<prefix>-${aws:PrincipalTag/TenantId}-`, and a machine is created with, and changed or
 * started only while it carries, the session tenant's `TenantId` tag. So a function's code that
 * names another tenant's machine is denied by IAM, not only by its own checks.
 */
export function grantTenantWorkflows(scope: Construct, role: IRole, grant: TenantWorkflowGrant): void {
  const stack = Stack.of(scope);
  const arn = (resource: string, resourceName: string) =>
    stack.formatArn({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  const tenantTag = `\${aws:PrincipalTag/${TENANT_SESSION_TAG}}`;
  // Tenant ids hold no `-` (ID_PATTERN, functions/core/ids.ts), so `<prefix>-<tenant>-` starts no other
  // tenant's names; the stages are fixed (lib/config.ts), so no other stage's either. Qualified ARNs
  // (`<machine>:<version>`, `<machine>:<alias>`) match the same pattern.
  const machines = arn('stateMachine', `${grant.prefix}-${tenantTag}-*`);
  const executions = arn('execution', `${grant.prefix}-${tenantTag}-*:*`);
  const ownTag = { StringEquals: { [`aws:ResourceTag/${TENANT_TAG}`]: tenantTag } };
  const statement = (sid: string, actions: string[], resources: string[], conditions?: object) =>
    role.addToPrincipalPolicy(
      new PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) }),
    );
  if (grant.access === 'retire') {
    statement('TenantMachinesOnly', ['states:DeleteStateMachine'], [machines]);
    statement('TenantExecutionsOnly', ['states:StopExecution'], [executions]);
  } else if (grant.access === 'start') {
    statement('StartTenantExecutions', ['states:StartExecution'], [machines], ownTag);
  } else {
    if (!grant.workflowRole) throw new Error('grantTenantWorkflows: control needs the workflow role');
    // CreateStateMachine with tags is also authorized as TagResource, with the same request tags.
    statement('CreateTenantStateMachines', ['states:CreateStateMachine', 'states:TagResource'], [machines], {
      StringEquals: { [`aws:RequestTag/${TENANT_TAG}`]: tenantTag },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_TAG, WORKFLOW_TAG] },
    });
    // No tag condition: CreateStateMachine with `publish` authorizes this before the machine is tagged.
    statement('PublishTenantWorkflowVersions', ['states:PublishStateMachineVersion'], [machines]);
    statement(
      'RunTenantStateMachines',
      [
        'states:CreateStateMachineAlias',
        'states:StartExecution',
        'states:UpdateStateMachine',
        'states:UpdateStateMachineAlias',
      ],
      [machines],
      ownTag,
    );
    // Version housekeeping (Step Functions keeps at most 1,000 versions per machine) and deleting a
    // deleted workflow's machine: functions/adapters/sfn-engine.ts.
    statement(
      'RetireTenantStateMachines',
      [
        'states:DeleteStateMachine',
        'states:DeleteStateMachineVersion',
        'states:DescribeStateMachineAlias',
        'states:ListStateMachineAliases',
        'states:ListStateMachineVersions',
      ],
      [machines],
    );
    // Executions carry no tags of their own: the name fences these.
    statement(
      'StopOrRedriveTenantExecutions',
      ['states:RedriveExecution', 'states:StopExecution'],
      [executions],
    );
    statement('PassWorkflowRole', ['iam:PassRole'], [grant.workflowRole.roleArn], {
      StringEquals: { 'iam:PassedToService': 'states.amazonaws.com' },
    });
  }
  acknowledgeWildcardResource(
    role,
    machines,
    'Workflow machines are named at run time "<prefix>-<tenant>-<workflow>"; the aws:PrincipalTag/TenantId policy variable fences the name to the session tenant.',
  );
  if (grant.access !== 'start')
    acknowledgeWildcardResource(
      role,
      executions,
      "Executions are named at run time; the resource is the session tenant's machines' executions, fenced by the aws:PrincipalTag/TenantId policy variable.",
    );
}

/** Objects under `tenants/<session tenant>/` of the artifacts bucket, and its key through S3 only. */
function grantTenantArtifacts(
  scope: Construct,
  role: Role,
  tenantTag: string,
  artifacts: NonNullable<TenantDataRoleProps['artifacts']>,
): void {
  const objects = artifacts.bucket.arnForObjects(`${TENANT_ARTIFACT_PREFIX}/${tenantTag}/*`);
  const access: readonly TenantArtifactAccess[] =
    typeof artifacts.access === 'string' ? [artifacts.access] : artifacts.access;
  const union = (table: Readonly<Record<TenantArtifactAccess, readonly string[]>>) => [
    ...new Set(access.flatMap((a) => table[a])),
  ];
  role.addToPolicy(
    new PolicyStatement({
      sid: 'TenantArtifactsOnly',
      actions: union(ARTIFACT_OBJECT_ACTIONS).sort(),
      resources: [objects],
    }),
  );
  const listing = union(ARTIFACT_LIST_ACTIONS).sort();
  if (listing.length > 0) {
    role.addToPolicy(
      new PolicyStatement({
        sid: 'TenantArtifactsListing',
        actions: [...listing],
        resources: [artifacts.bucket.bucketArn],
        // Only listings inside the session tenant's prefix.
        conditions: { StringLike: { 's3:prefix': [`${TENANT_ARTIFACT_PREFIX}/${tenantTag}/*`] } },
      }),
    );
  }
  const key = artifacts.bucket.encryptionKey;
  if (key) {
    role.addToPolicy(
      new PolicyStatement({
        sid: 'ArtifactKeyThroughS3',
        // GenerateDataKey encrypts new objects; Decrypt reads them.
        actions: access.some((a) => a === 'readWrite' || a === 'lifecycle')
          ? ['kms:Decrypt', 'kms:GenerateDataKey']
          : ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(scope).region}.amazonaws.com` } },
      }),
    );
  }
  acknowledgeWildcardResource(
    role,
    objects,
    'Object keys of large step outputs are created at run time; the wildcard is fenced to the session tenant prefix "tenants/<tenant>/" by the aws:PrincipalTag/TenantId policy variable.',
  );
}

/** List and read the session tenant's digests in the audit archive, and its key through S3 only. */
function grantTenantDigests(scope: Construct, role: Role, tenantTag: string, bucket: IBucket): void {
  const prefix = `${AUDIT_ARCHIVE_PREFIXES.digests}${tenantTag}/`;
  role.addToPolicy(
    new PolicyStatement({
      sid: 'TenantDigestsListing',
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      // Exactly the prefix the verifier lists (functions/adapters/audit/s3-archive.ts listDigests).
      conditions: { StringEquals: { 's3:prefix': prefix } },
    }),
  );
  const objects = bucket.arnForObjects(`${prefix}*`);
  role.addToPolicy(
    new PolicyStatement({ sid: 'TenantDigestsOnly', actions: ['s3:GetObject'], resources: [objects] }),
  );
  if (bucket.encryptionKey) {
    role.addToPolicy(
      new PolicyStatement({
        sid: 'AuditKeyThroughS3',
        actions: ['kms:Decrypt'],
        resources: [bucket.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(scope).region}.amazonaws.com` } },
      }),
    );
  }
  acknowledgeWildcardResource(
    role,
    objects,
    'Digest objects are numbered as the stream consumer signs them; the wildcard is fenced to the session tenant prefix "digests/tenant=<tenant>/" by the aws:PrincipalTag/TenantId policy variable, and to GetObject.',
  );
}
