import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayRequestAuthorizerEventV2,
  Context,
} from 'aws-lambda';
import { PUBLIC_ROUTES, routeKeyOf } from '#shared/public-routes.ts';

/**
 * What API Gateway (HTTP API, payload format 2.0, Lambda authorizer with simple responses) does to a
 * request and to a handler's result, as pure functions: the routes, the event, the authorizer
 * event, the Lambda context and the interpretation of the result. server.ts does the I/O.
 */

/** Values an HTTP API Lambda authorizer may put in its context (flat, like AWS). */
export type AuthorizerContextValues = Record<string, string | number | boolean>;

/** The API Lambda, as the platform calls it. */
export type ApiHandler = (
  event: APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContextValues>,
  context: Context,
) => Promise<unknown>;

/** The authorizer Lambda (simple responses). */
export type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEventV2,
  context: Context,
) => Promise<unknown>;

/** The two handlers the server runs. */
export interface Handlers {
  readonly api: ApiHandler;
  readonly authorizer: AuthorizerHandler;
}

/** Account, API id and names that make the events look like the deployed stage's. */
export const LOCAL_GATEWAY = Object.freeze({
  accountId: '000000000000',
  apiId: 'local',
  region: 'us-east-1',
  stage: '$default',
  apiFunctionName: 'meridian-local-api',
  authorizerFunctionName: 'meridian-local-authorizer',
});

/** API Gateway's payload limit; larger requests never reach the Lambda. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/** HTTP API's maximum integration timeout. */
export const INTEGRATION_TIMEOUT_MS = 30_000;

/** A route of the HTTP API and whether the Lambda authorizer guards it. */
export interface RouteMatch {
  readonly routeKey: string;
  readonly pathParameters?: Record<string, string>;
  readonly authorized: boolean;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The public routes as path patterns: each `{name}` matches one non-empty segment. */
const PUBLIC_ROUTE_PATTERNS = PUBLIC_ROUTES.map((route) => {
  const parameters = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  const source = route.path
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
    .join('([^/]+)');
  return { ...route, parameters, pattern: new RegExp(`^${source}$`) };
});

/**
 * Matches a request to the HTTP API's routes as deployed: four public routes, everything else
 * through `ANY /{proxy+}` behind the authorizer. `undefined` means no route (`/` itself), which API
 * Gateway answers with 404.
 */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  for (const route of PUBLIC_ROUTE_PATTERNS) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (!match) continue;
    const pathParameters = Object.fromEntries(
      route.parameters.map((name, i) => [name, decode(match[i + 1] ?? '')]),
    );
    return {
      routeKey: routeKeyOf(route),
      ...(route.parameters.length > 0 ? { pathParameters } : {}),
      authorized: false,
    };
  }
  if (path.length > 1) {
    return { routeKey: 'ANY /{proxy+}', pathParameters: { proxy: decode(path.slice(1)) }, authorized: true };
  }
  return undefined;
}

const TEXT_TYPES = new Set([
  'application/json',
  'application/javascript',
  'application/xml',
  'application/yaml',
  'application/x-yaml',
  'application/x-www-form-urlencoded',
  'application/graphql',
]);

/**
 * Whether AWS delivers a body of this content type as text (else base64): text/*, JSON, XML,
 * JavaScript, YAML and form bodies, including `+json`/`+xml` suffixes. No content type is binary.
 */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return type.startsWith('text/') || TEXT_TYPES.has(type) || type.endsWith('+json') || type.endsWith('+xml');
}

/** The parts of an HTTP request the event is built from (pure input, for tests). */
export interface HttpRequestInput {
  readonly method: string;
  /** Request target as received: path and optional query, e.g. `/a%20b?x=1`. */
  readonly url: string;
  /** Header names as received, each with all its values (like `IncomingMessage.headersDistinct`). */
  readonly headers: Record<string, readonly string[] | undefined>;
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly protocol?: string;
  readonly requestId: string;
  readonly now: Date;
  /** Host header fallback for `requestContext.domainName`. */
  readonly domainName?: string;
}

/** Like AWS: decoded query parameters, repeated keys joined with commas; undefined if none. */
export function parseQuery(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    out[key] = key in out ? `${out[key]},${value}` : value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function formatRequestTime(now: Date): string {
  // API Gateway's format: 12/Mar/2020:19:03:58 +0000
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${pad(now.getUTCDate())}/${months[now.getUTCMonth()]}/${now.getUTCFullYear()}:` +
    `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())} +0000`
  );
}

/**
 * Builds the HTTP API payload format 2.0 event AWS would deliver for `input`: lower-cased headers
 * with repeats joined by commas, cookies split out of the `cookie` header, decoded query parameters
 * joined the same way, path parameters of the matched route, and the body as text or base64.
 */
export function toApiGatewayEvent(input: HttpRequestInput, route?: RouteMatch): APIGatewayProxyEventV2 {
  const queryIndex = input.url.indexOf('?');
  const rawPath = queryIndex === -1 ? input.url : input.url.slice(0, queryIndex);
  const rawQueryString = queryIndex === -1 ? '' : (input.url.slice(queryIndex + 1).split('#')[0] ?? '');
  const match = route ?? matchRoute(input.method, rawPath);

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, values] of Object.entries(input.headers)) {
    if (!values || values.length === 0) continue;
    const key = name.toLowerCase();
    if (key === 'cookie') {
      for (const value of values) {
        cookies.push(
          ...value
            .split(';')
            .map((cookie) => cookie.trim())
            .filter(Boolean),
        );
      }
      continue;
    }
    headers[key] = key in headers ? `${headers[key]},${values.join(',')}` : values.join(',');
  }
  // What API Gateway adds in front of every integration.
  headers['x-forwarded-for'] ??= input.sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= (headers.host ?? '').split(':')[1] ?? '80';

  const hasBody = input.body.length > 0;
  const text = isTextContentType(headers['content-type']);
  const routeKey = match?.routeKey ?? '$default';
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: LOCAL_GATEWAY.accountId,
      apiId: LOCAL_GATEWAY.apiId,
      domainName: headers.host ?? input.domainName ?? 'localhost',
      domainPrefix: (headers.host ?? input.domainName ?? 'localhost').split('.')[0] ?? 'localhost',
      http: {
        method: input.method,
        path: rawPath,
        protocol: input.protocol ?? 'HTTP/1.1',
        sourceIp: input.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: input.requestId,
      routeKey,
      stage: LOCAL_GATEWAY.stage,
      time: formatRequestTime(input.now),
      timeEpoch: input.now.getTime(),
    },
    isBase64Encoded: hasBody && !text,
  };
  if (cookies.length > 0) event.cookies = cookies;
  const query = parseQuery(rawQueryString);
  if (query) event.queryStringParameters = query;
  if (match?.pathParameters) event.pathParameters = { ...match.pathParameters };
  if (hasBody) event.body = text ? input.body.toString('utf8') : input.body.toString('base64');
  return event;
}

/** The authorizer's view of a request: the same request data, as AWS sends it to a REQUEST authorizer. */
export function toAuthorizerEvent(event: APIGatewayProxyEventV2): APIGatewayRequestAuthorizerEventV2 {
  const { method, path } = event.requestContext.http;
  const authorizerEvent: APIGatewayRequestAuthorizerEventV2 = {
    version: '2.0',
    type: 'REQUEST',
    routeArn:
      `arn:aws:execute-api:${LOCAL_GATEWAY.region}:${LOCAL_GATEWAY.accountId}:${LOCAL_GATEWAY.apiId}/` +
      `${LOCAL_GATEWAY.stage}/${method}${path}`,
    identitySource: [],
    routeKey: event.routeKey,
    rawPath: event.rawPath,
    rawQueryString: event.rawQueryString,
    cookies: event.cookies ?? [],
    headers: { ...event.headers },
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http } },
  };
  if (event.queryStringParameters) authorizerEvent.queryStringParameters = { ...event.queryStringParameters };
  if (event.pathParameters) authorizerEvent.pathParameters = { ...event.pathParameters };
  return authorizerEvent;
}

/** A Lambda `Context` for one invocation, with the deadline a 29-second function would have. */
export function lambdaContext(
  functionName: string,
  requestId: string,
  timeoutMs = INTEGRATION_TIMEOUT_MS - 1_000,
): Context {
  const deadline = Date.now() + timeoutMs;
  const unsupported = (): never => {
    throw new Error('context.done/fail/succeed are not supported: return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_GATEWAY.region}:${LOCAL_GATEWAY.accountId}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** An HTTP response ready to write. */
export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/** API Gateway's own answers, e.g. `{"message":"Forbidden"}`. */
export function gatewayResponse(statusCode: number, message: string): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ message })),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Interprets a handler's result the way HTTP API (format 2.0) does: a structured result with
 * `statusCode` is used as is (body base64-decoded when `isBase64Encoded`, each cookie a
 * `set-cookie`); anything else is JSON sent with 200. An invalid result is a 500, as on AWS.
 */
export function fromHandlerResult(result: unknown): HttpResponse {
  if (!isRecord(result) || !('statusCode' in result)) {
    // Format 2.0 infers 200 + JSON when there is no statusCode; a string is sent as it is.
    const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? '');
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
  }
  const { statusCode, body, isBase64Encoded, cookies } = result;
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    return gatewayResponse(500, 'Internal Server Error');
  }
  const headers: Record<string, string | string[]> = {};
  if (isRecord(result.headers)) {
    for (const [name, value] of Object.entries(result.headers)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        headers[name.toLowerCase()] = String(value);
      }
    }
  }
  if (Array.isArray(cookies) && cookies.length > 0) {
    headers['set-cookie'] = cookies.filter((cookie): cookie is string => typeof cookie === 'string');
  }
  const text = typeof body === 'string' ? body : '';
  return {
    statusCode,
    headers,
    body: isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  };
}
