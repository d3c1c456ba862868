import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import {
  type IGrantable,
  type IPrincipal,
  type IRole,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FunctionEnvName, RuntimeEnvName } from '#shared/settings.ts';
import { acknowledgeResourceStar, acknowledgeWildcardResource } from '../compliance.ts';
import type { StageName } from '../config.ts';
import {
  TABLE_ITEM_READ_ACTIONS,
  TABLE_ITEM_WRITE_ACTIONS,
  tableKeyActions,
  tableResourceArns,
} from './storage.ts';

/** The repository root: NodejsFunction's project root (lock file, package.json `imports`, tsconfig). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * ESM bundles have no `require`; some bundled CommonJS dependencies still call it for Node built-ins.
 * Defining it from `import.meta.url` makes those calls work (the pattern Powertools documents).
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as topLevelCreateRequire } from 'node:module';const require = topLevelCreateRequire(import.meta.url);";

/**
 * The esbuild options of every Meridian function: an ESM bundle for Node 22, minified with linked
 * source maps, the AWS SDK bundled in (pinned versions rather than the runtime's), built by the local
 * esbuild. Exported so the bundling benchmark builds exactly what the CDK deploys.
 */
export const BUNDLING_OPTIONS = Object.freeze({
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  sourceMap: true,
  // Mappings are enough for stack traces; embedding sources would double the bundle.
  sourcesContent: false,
  // Bundle the AWS SDK v3 instead of marking @aws-sdk/* external (the CDK default).
  externalModules: [],
  forceDockerBundling: false,
} satisfies BundlingOptions);

/** CloudWatch namespace of the functions' EMF metrics (`POWERTOOLS_METRICS_NAMESPACE`). */
export const METRICS_NAMESPACE = 'Meridian';

/**
 * How a function may use the table: `readUpdate` adds only UpdateItem to the reads (the authorizer
 * records when an API key was last used), `readWrite` every item write. `nameOnly` sets the variable
 * without any permission, for a function that reaches items only through a tenant data role.
 */
export type TableAccess = 'nameOnly' | 'read' | 'readUpdate' | 'readWrite';

/**
 * How a function may use a bucket. `nameOnly` sets the variable without any permission: the runtime
 * config requires it even in functions that never touch the bucket. `probe` allows only
 * GetBucketLocation: the readiness check, which thus cannot list object keys (HeadBucket would need
 * s3:ListBucket).
 */
export type BucketAccess = 'nameOnly' | 'probe' | 'read' | 'readWrite';

/**
 * How a function may use the user pool. `verify` only sets the ids (JWT verification reads the public
 * JWKS and needs no IAM); `admin` also allows the user-management calls of the API.
 */
export type UserPoolAccess = 'verify' | 'admin';

/**
 * Cognito calls the API makes (functions/adapters/cognito-directory.ts and the readiness check), and
 * nothing else: no group changes (AdminAddUserToGroup would let a compromised API function make
 * anyone a platform admin), no password setting, no reads of other users.
 */
export const USER_POOL_ADMIN_ACTIONS: readonly string[] = [
  'cognito-idp:AdminCreateUser',
  'cognito-idp:AdminDeleteUser',
  'cognito-idp:AdminDisableUser',
  'cognito-idp:AdminEnableUser',
  'cognito-idp:DescribeUserPool',
  // Tenants' identity providers (functions/adapters/cognito-federation.ts): the app client's list of
  // providers is read and written back with one more or one fewer; a verified domain joins a
  // provider's identifiers.
  'cognito-idp:CreateIdentityProvider',
  'cognito-idp:DeleteIdentityProvider',
  'cognito-idp:UpdateIdentityProvider',
  'cognito-idp:DescribeUserPoolClient',
  'cognito-idp:UpdateUserPoolClient',
];

/**
 * A platform-level item a function reads with its own role: items whose partition key (or, on the
 * index, GSI1 partition key) is not a tenant's. Each is named exactly, or by a prefix no tenant
 * key has, and only for the actions listed.
 */
export interface PlatformItems {
  /** Statement id. */
  readonly sid: string;
  /** Item actions, e.g. `dynamodb:GetItem`. */
  readonly actions: readonly string[];
  /** On the table (`pk`) or on GSI1 (`gsi1pk`). */
  readonly on: 'table' | 'index';
  /** Allowed partition keys (`dynamodb:LeadingKeys`, StringLike), e.g. `HEALTH`, `SUB#*`. */
  readonly leadingKeys: readonly string[];
}

/** Properties of {@link MeridianFunction}. */
export interface MeridianFunctionProps {
  /** Handler file relative to the repository root, e.g. `functions/handlers/api.ts`. */
  readonly entry: string;
  /**
   * Name of the exported handler.
   * @default 'handler'
   */
  readonly handler?: string;
  /** What the function does; shown in the Lambda console. */
  readonly description: string;
  /** Deployment stage, exposed to the code as `STAGE`. */
  readonly stage: StageName;
  /** Powertools service name (`POWERTOOLS_SERVICE_NAME`): the `service` of every log line and metric. */
  readonly serviceName: string;
  /** Memory in MB; explicit because CPU, cost and cold start all follow it. */
  readonly memorySize: number;
  /** Invocation timeout; explicit because the 3 s default hides slow dependencies until production. */
  readonly timeout: Duration;
  /** Retention of the function's log group. */
  readonly logRetention: RetentionDays;
  /** Removal policy of the function's log group. */
  readonly logRemovalPolicy: RemovalPolicy;
  /**
   * Queue that receives asynchronous invocations that still failed after Lambda's retries; the role
   * may send to it (and use its key).
   * @default - no dead-letter queue: the function is only invoked synchronously
   */
  readonly deadLetterQueue?: IQueue;
  /**
   * Reserved concurrency: a bulkhead that caps the function and keeps the rest of the account's
   * concurrency for the others. @default - the unreserved pool
   */
  readonly reservedConcurrency?: number;
}

/**
 * The one Lambda function construct: Node.js 22 on arm64, an ESM bundle built by the local esbuild
 * with the AWS SDK bundled in (pinned versions, no runtime-provided SDK surprises), minified with
 * source maps, X-Ray active, an explicit log group and a role that starts with nothing but that log
 * group. Permissions are added only through the `bind*` helpers, which set the matching environment
 * variable in the same call so a permission never exists without the code knowing the resource.
 */
export class MeridianFunction extends Construct implements IGrantable {
  /** The underlying function; use it for integrations, metrics and alarms. */
  readonly function: NodejsFunction;
  /** The execution role (no managed policies). */
  readonly role: Role;
  /** The function's log group. */
  readonly logGroup: LogGroup;
  /** The role this function assumes per tenant, once bound ({@link bindTenantDataRole}). */
  tenantDataRole: IRole | undefined;

  constructor(scope: Construct, id: string, props: MeridianFunctionProps) {
    super(scope, id);
    if (props.memorySize < 128 || props.memorySize > 10_240) {
      throw new Error(
        `${this.node.path}: memorySize ${props.memorySize} is out of range; use 128 to 10240 MB`,
      );
    }

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.role = new Role(this, 'ServiceRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.description}`,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs:* on every group): write to this log group only.
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: props.handler ?? 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      role: this.role,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        STAGE: props.stage,
        MERIDIAN_MODE: 'aws',
      } satisfies Partial<Record<FunctionEnvName, string>>,
      bundling: BUNDLING_OPTIONS,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
    });
    // The Lambda construct allows sqs:SendMessage on the queue, but not the key an encrypted queue needs.
    const deadLetterKey = props.deadLetterQueue?.encryptionMasterKey;
    if (deadLetterKey) {
      this.addToRolePolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [deadLetterKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }

    const runtimeReason =
      'Node.js 22 is the Lambda runtime named in the README architecture map and the esbuild target (node22) matches it; moving to a newer runtime is a deliberate upgrade, tested with its bundle target and dependency engine ranges, not drift.';
    Validations.of(this.function).acknowledge({ id: 'AwsSolutions-L1', reason: runtimeReason });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaLatestVersion',
      reason: runtimeReason,
    });
    acknowledgeResourceStar(
      this.role,
      ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      'Active X-Ray tracing writes trace segments and telemetry, which support no resource-level permissions.',
    );
  }

  /** The role's principal, so the construct can be passed wherever a grantee is expected. */
  get grantPrincipal(): IPrincipal {
    return this.role;
  }

  /** Sets an environment variable on the function: only names of functions/shared/settings.ts. */
  addEnvironment(key: FunctionEnvName, value: string): this {
    this.function.addEnvironment(key, value);
    return this;
  }

  /** Adds a statement to the execution role. */
  addToRolePolicy(statement: PolicyStatement): this {
    this.role.addToPrincipalPolicy(statement);
    return this;
  }

  /**
   * Sets `TABLE_NAME` and allows item reads (and writes, per {@link TableAccess}) on the table and
   * its index, plus DescribeTable; with `nameOnly`, nothing. No Scan: no request path needs one.
   */
  bindTable(table: ITable, access: TableAccess = 'readWrite'): this {
    this.addEnvironment('TABLE_NAME', table.tableName);
    if (access === 'nameOnly') return this;
    const writes = { read: [], readUpdate: ['dynamodb:UpdateItem'], readWrite: TABLE_ITEM_WRITE_ACTIONS }[
      access
    ];
    const itemActions = [...TABLE_ITEM_READ_ACTIONS, ...writes];
    this.addToRolePolicy(
      new PolicyStatement({
        actions: [...itemActions, 'dynamodb:DescribeTable'],
        resources: tableResourceArns(table),
      }),
    );
    if (table.encryptionKey) {
      this.addToRolePolicy(
        new PolicyStatement({
          actions: tableKeyActions(access === 'read' ? 'read' : 'readWrite'),
          resources: [table.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
    return this;
  }

  /**
   * Allows the platform-level items of `items` on `table` (and its key through DynamoDB: reads, or
   * writes when an item action writes), nothing else: each statement names its partition keys, and a
   * request naming none is not allowed.
   */
  bindPlatformItems(table: ITable, items: readonly PlatformItems[]): this {
    const [tableArn, indexArn] = tableResourceArns(table);
    for (const item of items) {
      this.addToRolePolicy(
        new PolicyStatement({
          sid: item.sid,
          actions: [...item.actions],
          resources: [item.on === 'table' ? String(tableArn) : String(indexArn)],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...item.leadingKeys] },
            // ForAllValues holds for an empty set: a request naming no partition must not pass.
            Null: { 'dynamodb:LeadingKeys': 'false' },
          },
        }),
      );
    }
    if (table.encryptionKey && items.length > 0) {
      const writes = items.some((item) => item.actions.some((a) => TABLE_ITEM_WRITE_ACTIONS.includes(a)));
      this.addToRolePolicy(
        new PolicyStatement({
          actions: tableKeyActions(writes ? 'readWrite' : 'read'),
          resources: [table.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
    return this;
  }

  /**
   * Sets `AUDIT_BUCKET_NAME`. `probe` allows the readiness check's GetBucketLocation only; the
   * archive's object access is granted narrowly where it is used (the stream consumer's writes in
   * lib/constructs/audit-stream.ts, a tenant's digests in lib/constructs/tenant-data-role.ts).
   */
  bindAuditBucket(bucket: IBucket, access: BucketAccess = 'readWrite'): this {
    return this.bindBucket('AUDIT_BUCKET_NAME', bucket, access);
  }

  /** Sets `ARTIFACT_BUCKET_NAME` and allows reading (and writing) large step outputs and exports. */
  bindArtifactsBucket(bucket: IBucket, access: BucketAccess = 'readWrite'): this {
    return this.bindBucket('ARTIFACT_BUCKET_NAME', bucket, access);
  }

  /**
   * Sets `USER_POOL_ID` and `USER_POOL_CLIENT_ID`; with `admin`, allows the user-management calls
   * of {@link USER_POOL_ADMIN_ACTIONS} on this pool only.
   */
  bindUserPool(userPool: IUserPool, client: IUserPoolClient, access: UserPoolAccess = 'admin'): this {
    this.addEnvironment('USER_POOL_ID', userPool.userPoolId);
    this.addEnvironment('USER_POOL_CLIENT_ID', client.userPoolClientId);
    if (access === 'admin') {
      this.addToRolePolicy(
        new PolicyStatement({ actions: [...USER_POOL_ADMIN_ACTIONS], resources: [userPool.userPoolArn] }),
      );
    }
    return this;
  }

  /**
   * Sets `TENANT_DATA_ROLE_ARN` and `SECRETS_PREFIX` and allows assuming `role` with session tags: the
   * runtime then reaches each tenant's items, artifacts and secrets only through that role, tagged
   * with the tenant.
   * The role must trust this function's role (see `createTenantDataRole`).
   */
  bindTenantDataRole(role: IRole, secretsPrefix: string): this {
    this.tenantDataRole = role;
    this.addToRolePolicy(
      new PolicyStatement({ actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [role.roleArn] }),
    );
    this.addEnvironment('TENANT_DATA_ROLE_ARN', role.roleArn);
    this.addEnvironment('SECRETS_PREFIX', secretsPrefix);
    return this;
  }

  private bindBucket(variable: RuntimeEnvName, bucket: IBucket, access: BucketAccess): this {
    this.addEnvironment(variable, bucket.bucketName);
    if (access === 'nameOnly') return this;
    if (access === 'probe') {
      this.addToRolePolicy(
        new PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [bucket.bucketArn] }),
      );
      return this;
    }
    const objects = bucket.arnForObjects('*');
    this.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
    this.addToRolePolicy(
      new PolicyStatement({
        actions: access === 'read' ? ['s3:GetObject'] : ['s3:GetObject', 's3:PutObject'],
        resources: [objects],
      }),
    );
    if (bucket.encryptionKey) {
      this.addToRolePolicy(
        new PolicyStatement({
          // GenerateDataKey encrypts new objects; Decrypt reads them (and completes multipart uploads).
          actions: access === 'read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [bucket.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    acknowledgeWildcardResource(
      this.role,
      objects,
      `Object keys are created at run time (one per archive batch, step output or export), so object actions need "<bucket>/*"; the statement is limited to this one bucket and to ${access === 'read' ? 'GetObject' : 'GetObject and PutObject'}.`,
    );
    return this;
  }
}
