import { Capture, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PUBLIC_ROUTE_KEYS } from '#shared/public-routes.ts';
import type { FunctionName } from '../../lib/aws-calls.ts';
import { RESOURCE_SETTINGS, ROOTS, resourceSettingsOf, variablesRead } from '../helpers/settings.ts';
import { logicalId, synthStage } from '../helpers/synth.ts';

/** The console's CloudFront origin, as the template spells it (a CORS origin of the API). */
function consoleOrigin(stack: ReturnType<typeof synthStage>['stack']): unknown {
  return {
    'Fn::Join': [
      '',
      ['https://', { 'Fn::GetAtt': [logicalId(stack, stack.console.distribution), 'DomainName'] }],
    ],
  };
}

/**
 * Meridian's own functions: every Lambda of the template except the CDK's BucketDeployment handler
 * (Python with the AWS CLI, run by CloudFormation only while it deploys the console; see
 * lib/constructs/console.ts), which is checked to be the only exception.
 */
function meridianFunctions(template: ReturnType<typeof synthStage>['template']): Record<string, unknown>[] {
  const all = Object.entries(template.findResources('AWS::Lambda::Function'));
  const own = all.filter(([id]) => !id.startsWith('CustomCDKBucketDeployment'));
  expect(all.length - own.length).toBe(1);
  return own.map(([, resource]) => (resource as { Properties: Record<string, unknown> }).Properties);
}

describe('HTTP API', () => {
  const { template, stack } = synthStage('dev');
  const authorizerId = logicalId(stack, stack.api.authorizerFunction.function);
  const apiFunctionId = logicalId(stack, stack.api.apiFunction.function);

  it('authorizes with a Lambda returning simple responses (payload 2.0)', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      EnableSimpleResponses: true,
      AuthorizerPayloadFormatVersion: '2.0',
      AuthorizerUri: Match.objectLike({
        'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [authorizerId, 'Arn'] }])],
      }),
    });
  });

  it('gives the authorizer no identity source (Authorization or X-Api-Key may be absent)', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { IdentitySource: Match.absent() });
  });

  it('does not cache authorizer results at the gateway', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerResultTtlInSeconds: 0 });
  });

  it.each(PUBLIC_ROUTE_KEYS)('serves %s without the authorizer', (routeKey) => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: routeKey,
      AuthorizationType: 'NONE',
      AuthorizerId: Match.absent(),
    });
  });

  it('puts every other path behind the authorizer', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'ANY /{proxy+}',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: Match.stringLikeRegexp('RequestAuthorizer') },
    });
  });

  it('has no other routes', () => {
    const routeKeys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (route) => route.Properties.RouteKey,
    );
    expect(routeKeys.sort()).toEqual([...PUBLIC_ROUTE_KEYS, 'ANY /{proxy+}'].sort());
  });

  it('integrates every route with the API function using payload 2.0', () => {
    template.allResourcesProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [apiFunctionId, 'Arn'] },
    });
  });

  it('throttles the default stage with the configured rate and burst', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: stack.config.apiThrottle.rateLimit,
        ThrottlingBurstLimit: stack.config.apiThrottle.burstLimit,
      },
    });
  });

  it('writes JSON access logs with the request fields operators need', () => {
    const format = new Capture();
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logicalId(stack, stack.api.accessLogGroup), 'Arn'] },
        Format: format,
      },
    });
    expect(JSON.parse(format.asString())).toEqual({
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
  });

  it('keeps access logs for the configured retention', () => {
    template.templateMatches({
      Resources: {
        [logicalId(stack, stack.api.accessLogGroup)]: {
          Properties: { RetentionInDays: stack.config.logRetention },
        },
      },
    });
  });

  it('answers CORS preflight for the configured origins, the console, and the headers', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: [...stack.config.corsAllowedOrigins, consoleOrigin(stack)],
        AllowHeaders: [
          'Authorization',
          'Content-Type',
          'X-Api-Key',
          'Idempotency-Key',
          'X-Meridian-Signature',
        ],
        AllowMethods: ['*'],
        ExposeHeaders: ['Location'],
        MaxAge: 3600,
      },
    });
  });
});

describe('HTTP API in prod', () => {
  const { template, config, stack } = synthStage('prod');

  it("allows only the console's origin when no other origin is configured", () => {
    expect(config.corsAllowedOrigins).toEqual([]);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: [consoleOrigin(stack)] }),
    });
  });
});

describe.each(['dev', 'prod'] as const)('functions in %s', (stage) => {
  const { template, stack, config } = synthStage(stage);

  it('run Node.js 22 on arm64 with active tracing', () => {
    for (const fn of meridianFunctions(template)) {
      expect(fn).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
    }
  });

  it('load the ESM bundle with source maps enabled', () => {
    for (const fn of meridianFunctions(template)) {
      expect(fn).toMatchObject({
        Handler: 'index.handler',
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) },
      });
    }
  });

  it('log to their own log group with the configured retention', () => {
    for (const fn of [stack.api.apiFunction, stack.api.authorizerFunction]) {
      const logGroupId = logicalId(stack, fn.logGroup);
      template.hasResourceProperties('AWS::Lambda::Function', {
        LoggingConfig: { LogGroup: { Ref: logGroupId } },
      });
      template.templateMatches({
        Resources: { [logGroupId]: { Properties: { RetentionInDays: config.logRetention } } },
      });
    }
  });

  it('have the configured memory and timeout', () => {
    for (const [fn, sizing] of [
      [stack.api.apiFunction, config.apiFunction],
      [stack.api.authorizerFunction, config.authorizerFunction],
    ] as const) {
      template.templateMatches({
        Resources: {
          [logicalId(stack, fn.function)]: {
            Properties: { MemorySize: sizing.memoryMb, Timeout: sizing.timeout.toSeconds() },
          },
        },
      });
    }
  });

  it('use roles without managed policies', () => {
    template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });
});

describe('function environment', () => {
  const { template, stack } = synthStage('dev');
  const ref = (construct: Parameters<typeof logicalId>[1]) => ({ Ref: logicalId(stack, construct) });
  const common = {
    POWERTOOLS_METRICS_NAMESPACE: 'Meridian',
    STAGE: 'dev',
    MERIDIAN_MODE: 'aws',
    TABLE_NAME: ref(stack.storage.table),
  };
  const userPool = {
    USER_POOL_ID: ref(stack.identity.userPool),
    USER_POOL_CLIENT_ID: ref(stack.identity.client),
  };

  it('gives the API function every resource it binds and the tenant role', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          ...common,
          ...userPool,
          AUDIT_BUCKET_NAME: ref(stack.auditArchive.bucket),
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'meridian-api',
          ARTIFACT_BUCKET_NAME: ref(stack.storage.artifactsBucket),
          TENANT_DATA_ROLE_ARN: { 'Fn::GetAtt': [logicalId(stack, stack.api.tenantDataRole), 'Arn'] },
          SECRETS_PREFIX: 'meridian/dev/tenants',
        },
      },
    });
  });

  it('gives the authorizer what its runtime config requires: the pool to verify tokens against', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          ...common,
          ...userPool,
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'meridian-authorizer',
        },
      },
    });
  });

  // The composition roots (functions/adapters/wiring/) require these; the stack must set them.
  const ROOT_OF_SERVICE: Record<string, FunctionName> = {
    'meridian-api': 'api',
    'meridian-authorizer': 'authorizer',
    'meridian-sso-trigger': 'ssoTrigger',
    'meridian-step-runner': 'stepRunner',
    'meridian-approval-handler': 'approvalHandler',
    'meridian-status-handler': 'statusHandler',
    'meridian-schedule-fire': 'scheduleFire',
    'meridian-notification-delivery': 'notificationDelivery',
    lifecycle: 'lifecycle',
    'meridian-audit-stream': 'auditStream',
  };

  it('sets on each function exactly the resource settings its composition root reads', () => {
    const functions = meridianFunctions(template).map(
      (p) => (p.Environment as { Variables: Record<string, unknown> }).Variables,
    );
    expect(functions.map((v) => v.POWERTOOLS_SERVICE_NAME).sort()).toEqual(
      Object.keys(ROOT_OF_SERVICE).sort(),
    );
    for (const variables of functions) {
      const root = ROOT_OF_SERVICE[String(variables.POWERTOOLS_SERVICE_NAME)];
      const set = RESOURCE_SETTINGS.filter((name) => name in variables);
      expect({ root, set }).toEqual({ root, set: resourceSettingsOf(ROOTS[root ?? 'api']) });
    }
    // Who reads what: tokens are verified against the pool, offboarding deletes logins from it, the
    // stream consumer archives to the audit bucket, and the step runner touches neither.
    expect(resourceSettingsOf(ROOTS.authorizer)).toEqual(['USER_POOL_ID', 'USER_POOL_CLIENT_ID']);
    expect(resourceSettingsOf(ROOTS.lifecycle)).toEqual(['USER_POOL_ID', 'USER_POOL_CLIENT_ID']);
    expect(resourceSettingsOf(ROOTS.auditStream)).toEqual(['AUDIT_BUCKET_NAME']);
    expect(resourceSettingsOf(ROOTS.stepRunner)).toEqual([]);
  });

  // Settings with a default (a window, a retention) must not differ between two functions that read
  // them: each reads the value the stack gives any other, or none when no function gets one.
  it('sets a shared setting on every function that reads it, with the same value', () => {
    // Per function by design: its own tenant data role; the dead-letter queue and the email sender
    // are the delivery function's alone (the publishers' notifications group reads them unused).
    const perFunction = new Set([
      'TENANT_DATA_ROLE_ARN',
      'NOTIFICATION_DLQ_URL',
      'NOTIFICATION_FROM_ADDRESS',
    ]);
    const functions = meridianFunctions(template).map((p) => {
      const variables = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      const root = ROOT_OF_SERVICE[String(variables.POWERTOOLS_SERVICE_NAME)] ?? 'api';
      return { root, variables, reads: variablesRead(ROOTS[root]) };
    });
    const differing: string[] = [];
    let shared = 0;
    for (const { root, variables, reads } of functions) {
      for (const name of reads.filter((n) => !perFunction.has(n))) {
        const elsewhere = functions.find((f) => f.variables[name] !== undefined)?.variables[name];
        if (elsewhere === undefined) continue;
        shared++;
        if (JSON.stringify(variables[name]) !== JSON.stringify(elsewhere)) differing.push(`${root}: ${name}`);
      }
    }
    expect(shared).toBeGreaterThan(30);
    expect(differing).toEqual([]);
  });
});
