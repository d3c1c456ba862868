import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CfnAuthorizer,
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Role } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PUBLIC_ROUTES } from '#shared/public-routes.ts';
import { PLATFORM_ITEMS, tenantItemGrants } from '../aws-calls.ts';
import type { FunctionSizing, StageName, ThrottleConfig } from '../config.ts';
import { MeridianFunction } from './function.ts';
import { createTenantDataRole, tenantSecretsPrefix } from './tenant-data-role.ts';

export { TENANT_SESSION_TAG } from './tenant-data-role.ts';

/** Request headers browsers may send cross-origin. */
export const CORS_ALLOWED_HEADERS: readonly string[] = [
  'Authorization',
  'Content-Type',
  'X-Api-Key',
  'Idempotency-Key',
  'X-Meridian-Signature',
];

/**
 * One JSON object per request: what an operator needs to follow a request without the function logs.
 * The cost model (bench/cost.ts) counts its bytes.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  integrationErrorMessage: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  latency: '$context.responseLatency',
});

/** Properties of {@link Api}. */
export interface ApiProps {
  /** Deployment stage: the `STAGE` variable and the tenant secrets prefix `meridian/<stage>/tenants`. */
  readonly stage: StageName;
  /** The single table; the API reads and writes it, the authorizer reads it and touches API keys. */
  readonly table: ITable;
  /** The audit archive bucket (readiness check now, archive writes later). */
  readonly auditBucket: IBucket;
  /** The artifacts bucket (large step outputs, exports). */
  readonly artifactsBucket: IBucket;
  /** The user pool whose access tokens the authorizer accepts and whose users the API manages. */
  readonly userPool: IUserPool;
  /** The app client the access tokens must be issued to. */
  readonly userPoolClient: IUserPoolClient;
  /** Memory and timeout of the API function. */
  readonly apiFunction: FunctionSizing;
  /** Memory and timeout of the authorizer function. */
  readonly authorizerFunction: FunctionSizing;
  /** Origins allowed by the CORS preflight; empty configures no CORS. */
  readonly corsAllowedOrigins: readonly string[];
  /** Stage-wide throttling. */
  readonly throttle: ThrottleConfig;
  /** Retention of the function and access log groups. */
  readonly logRetention: RetentionDays;
  /** Removal policy of the function and access log groups. */
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * Meridian's HTTP API: one API function behind every route, a Lambda REQUEST authorizer in front of
 * all but the public ones, stage throttling, JSON access logs, CORS from config, and the tenant data
 * role the API function assumes (tagged with the caller's tenant) so IAM, not only code, fences each
 * tenant's items and secrets.
 */
export class Api extends Construct {
  /** The HTTP API. */
  readonly httpApi: HttpApi;
  /** The `$default` stage (throttling, access logs). */
  readonly stage: HttpStage;
  /** Base URL of the API, with a trailing slash. */
  readonly url: string;
  /** The function behind every route. */
  readonly apiFunction: MeridianFunction;
  /** The request authorizer. */
  readonly authorizerFunction: MeridianFunction;
  /** The API's access log group. */
  readonly accessLogGroup: LogGroup;
  /**
   * Role the API function assumes with session tag `TenantId=<tenant>` for tenant-scoped work: items
   * whose partition key starts with `TENANT#<tenant>` and secrets under `<prefix>/<tenant>/` only.
   */
  readonly tenantDataRole: Role;
  /** Role the authorizer assumes per tenant: reads that tenant's items, updates an API key's last use. */
  readonly authorizerTenantRole: Role;
  /**
   * Cognito's pre-token-generation trigger (functions/handlers/sso-trigger.ts): provisions federated
   * users and refuses password sign-ins where a tenant requires SSO. The stack attaches it to the pool.
   */
  readonly ssoTrigger: MeridianFunction;
  /** Role the SSO trigger assumes per tenant: reads that tenant's items, writes the users it provisions. */
  readonly ssoTriggerTenantRole: Role;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const common = {
      stage: props.stage,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    };

    this.apiFunction = new MeridianFunction(this, 'ApiFunction', {
      ...common,
      entry: 'functions/handlers/api.ts',
      description: `Meridian API handler (${props.stage})`,
      serviceName: 'meridian-api',
      memorySize: props.apiFunction.memoryMb,
      timeout: props.apiFunction.timeout,
    })
      // Tenant items, artifacts and secrets only through the tenant data role below; with its own
      // role, only the platform-level items named here.
      .bindTable(props.table, 'nameOnly')
      .bindPlatformItems(props.table, [
        PLATFORM_ITEMS.health,
        PLATFORM_ITEMS.tenantList,
        PLATFORM_ITEMS.ssoDomains,
        PLATFORM_ITEMS.appClientLease,
      ])
      // The readiness check's GetBucketLocation; the session tenant's digests are read through the tenant
      // data role below, and nothing in the archive is the API's to write.
      .bindAuditBucket(props.auditBucket, 'probe')
      .bindArtifactsBucket(props.artifactsBucket, 'nameOnly')
      .bindUserPool(props.userPool, props.userPoolClient, 'admin');

    this.authorizerFunction = new MeridianFunction(this, 'AuthorizerFunction', {
      ...common,
      entry: 'functions/handlers/authorizer.ts',
      description: `Meridian request authorizer (${props.stage})`,
      serviceName: 'meridian-authorizer',
      memorySize: props.authorizerFunction.memoryMb,
      timeout: props.authorizerFunction.timeout,
    })
      // Login to tenant is the one platform-level lookup; the user, tenant, roles and API keys are
      // then read (and a key's lastUsedAt updated) through the authorizer's tenant data role.
      .bindTable(props.table, 'nameOnly')
      .bindPlatformItems(props.table, [PLATFORM_ITEMS.userBySub])
      // Access tokens are verified against the pool's public JWKS: no Cognito permission needed.
      .bindUserPool(props.userPool, props.userPoolClient, 'verify');

    this.ssoTrigger = new MeridianFunction(this, 'SsoTrigger', {
      ...common,
      entry: 'functions/handlers/sso-trigger.ts',
      description: `Meridian single sign-on: Cognito pre-token-generation trigger (${props.stage})`,
      serviceName: 'meridian-sso-trigger',
      memorySize: props.authorizerFunction.memoryMb,
      // Cognito waits at most 5 s for a trigger.
      timeout: Duration.seconds(5),
    })
      // Not bindUserPool: the pool names this function as its trigger, so the function must not name
      // the pool (a cycle); the trigger makes no Cognito call (functions/shared/settings.ts).
      .bindTable(props.table, 'nameOnly');

    for (const fn of [this.apiFunction, this.authorizerFunction, this.ssoTrigger]) {
      Validations.of(fn.function).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked only synchronously (by API Gateway, or by Cognito before it issues a token): a dead-letter queue receives failed asynchronous events and would never be used; errors reach the caller and the error alarms.',
      });
    }

    const secretsPrefix = tenantSecretsPrefix(props.stage);
    this.tenantDataRole = createTenantDataRole(this, 'TenantDataRole', {
      table: props.table,
      secretsPrefix,
      // The API manages tenant secrets (create, rotate, delete) as well as reading them.
      secretAccess: 'manage',
      itemGrants: tenantItemGrants('api'),
      // Large step outputs the API resolves for GET /executions/{id} (and writes for large inputs).
      // Reads and writes large step outputs; tags an execution's artifacts for retention when it is
      // cancelled (functions/core/executions/service.ts).
      artifacts: { bucket: props.artifactsBucket, access: ['readWrite', 'tag'] },
      // The tenant's signed digests, which GET /audit/verify checks the tenant's records against.
      auditDigests: props.auditBucket,
      trustedRole: this.apiFunction.role,
      description:
        'Assumed by the API function with session tag TenantId; reaches only that tenant items, artifacts, secrets, digests and workflow machines',
    });
    this.apiFunction.bindTenantDataRole(this.tenantDataRole, secretsPrefix);
    this.authorizerTenantRole = createTenantDataRole(this, 'AuthorizerTenantRole', {
      table: props.table,
      secretsPrefix,
      secretAccess: 'none',
      itemGrants: tenantItemGrants('authorizer'),
      trustedRole: this.authorizerFunction.role,
      description:
        'Assumed by the authorizer with session tag TenantId; reads that tenant items, updates API key use',
    });
    this.authorizerFunction.bindTenantDataRole(this.authorizerTenantRole, secretsPrefix);
    this.ssoTriggerTenantRole = createTenantDataRole(this, 'SsoTriggerTenantRole', {
      table: props.table,
      secretsPrefix,
      secretAccess: 'none',
      itemGrants: tenantItemGrants('ssoTrigger'),
      trustedRole: this.ssoTrigger.role,
      description:
        'Assumed by the SSO trigger with session tag TenantId; reads that tenant items, writes the users it provisions',
    });
    this.ssoTrigger.bindTenantDataRole(this.ssoTriggerTenantRole, secretsPrefix);

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.httpApi = new HttpApi(this, 'HttpApi', {
      // Derived from the stack, so dev and prod are told apart in the console (names are not unique keys).
      apiName: `${Stack.of(this).stackName}-api`,
      description: `Meridian API (${props.stage})`,
      // Created below with throttling and access logs, which the implicit default stage cannot take.
      createDefaultStage: false,
      corsPreflight:
        props.corsAllowedOrigins.length === 0
          ? undefined
          : {
              allowOrigins: [...props.corsAllowedOrigins],
              allowMethods: [CorsHttpMethod.ANY],
              allowHeaders: [...CORS_ALLOWED_HEADERS],
              exposeHeaders: ['Location'],
              maxAge: Duration.hours(1),
            },
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
    this.url = this.stage.url;

    const integration = new HttpLambdaIntegration('ApiIntegration', this.apiFunction.function, {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });
    // No identity source and no gateway cache, deliberately. An HTTP API answers 401 without calling
    // the authorizer when any configured identity source is missing from the request, and callers
    // present either `Authorization: Bearer` or `X-Api-Key`: listing both would reject every request
    // that carries only one. Without identity sources the gateway cannot cache results (its cache key
    // is built from them), so the authorizer caches verified credentials in-process instead.
    const authorizer = new HttpLambdaAuthorizer('RequestAuthorizer', this.authorizerFunction.function, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: [],
      resultsCacheTtl: Duration.seconds(0),
    });

    // Served without the authorizer: functions/shared/public-routes.ts says why each may be.
    for (const route of PUBLIC_ROUTES) {
      for (const httpRoute of this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
      })) {
        Validations.of(httpRoute).acknowledge({ id: 'AwsSolutions-APIG4', reason: route.reason });
      }
    }
    this.httpApi.addRoutes({ path: '/{proxy+}', methods: [HttpMethod.ANY], integration, authorizer });

    // HttpLambdaAuthorizer renders an empty list as `IdentitySource: []`; omit the property so the
    // template says what we mean (no identity source) rather than relying on how [] is interpreted.
    for (const child of this.httpApi.node.findAll()) {
      if (child instanceof CfnAuthorizer) child.identitySource = undefined;
    }
  }
}
