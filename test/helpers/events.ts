import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { AuthorizerContext } from '#shared/auth-context.ts';

/** Options of {@link apiEvent}. */
export interface ApiEventOptions {
  readonly method?: string;
  readonly path?: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly auth?: AuthorizerContext;
  readonly base64?: boolean;
}

/** An API Gateway HTTP API (v2) event as the gateway would send it after the authorizer. */
export function apiEvent(options: ApiEventOptions = {}): APIGatewayProxyEventV2 & {
  requestContext: { authorizer?: { lambda?: AuthorizerContext } };
} {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(options.body !== undefined
      ? {
          body: options.base64 ? Buffer.from(options.body).toString('base64') : options.body,
          isBase64Encoded: options.base64 ?? false,
        }
      : { isBase64Encoded: false }),
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'req-test-1',
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(options.auth ? { authorizer: { lambda: options.auth } } : {}),
    },
  };
}

/** An authorizer context for a tenant user with the given permissions. */
export function tenantAuth(
  permissions: string[],
  overrides: Partial<AuthorizerContext> = {},
): AuthorizerContext {
  return {
    authenticated: true,
    tenantId: 'tabcdefghijklmnop',
    tenantStatus: 'active',
    principalType: 'user',
    principalId: 'user-1',
    roles: 'custom',
    permissions: permissions.join(' '),
    ...overrides,
  };
}
