import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fromHandlerResult,
  type Handlers,
  type HttpRequestInput,
  handleRequest,
  isTextContentType,
  lambdaContext,
  MAX_REQUEST_BYTES,
  matchRoute,
  parseQuery,
  type RunningApiServer,
  startApiServer,
  toApiGatewayEvent,
  toAuthorizerEvent,
} from '../../../../bin/local/server.ts';

function request(overrides: Partial<HttpRequestInput> = {}): HttpRequestInput {
  return {
    method: 'GET',
    url: '/me',
    headers: { Host: ['127.0.0.1:3000'], 'User-Agent': ['vitest'] },
    body: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
    requestId: '11111111-2222-3333-4444-555555555555',
    now: new Date('2026-03-12T19:03:58.123Z'),
    ...overrides,
  };
}

describe('request → HTTP API payload v2.0 event', () => {
  it('fills the v2.0 envelope and request context', () => {
    const event = toApiGatewayEvent(request({ url: '/workflows/wf1/versions?limit=5' }));
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'ANY /{proxy+}',
      rawPath: '/workflows/wf1/versions',
      rawQueryString: 'limit=5',
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: '127.0.0.1:3000',
        stage: '$default',
        routeKey: 'ANY /{proxy+}',
        requestId: '11111111-2222-3333-4444-555555555555',
        time: '12/Mar/2026:19:03:58 +0000',
        timeEpoch: Date.parse('2026-03-12T19:03:58.123Z'),
        http: {
          method: 'GET',
          path: '/workflows/wf1/versions',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'vitest',
        },
      },
    });
    expect(event.body).toBeUndefined();
    expect(event.cookies).toBeUndefined();
  });

  it('lower-cases header names and joins repeated headers with commas', () => {
    const event = toApiGatewayEvent(
      request({ headers: { 'X-Custom': ['a', 'b'], Accept: ['application/json'], 'x-custom': ['c'] } }),
    );
    expect(event.headers['x-custom']).toBe('a,b,c');
    expect(event.headers.accept).toBe('application/json');
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
  });

  it('moves cookies out of the headers into `cookies`', () => {
    const event = toApiGatewayEvent(request({ headers: { Cookie: ['a=1; b=2', 'c=3'] } }));
    expect(event.cookies).toEqual(['a=1', 'b=2', 'c=3']);
    expect(event.headers.cookie).toBeUndefined();
  });

  it('decodes query parameters and joins repeated keys with commas, like AWS', () => {
    const event = toApiGatewayEvent(
      request({ url: '/executions?status=RUNNING&status=FAILED&q=a%20b&empty=' }),
    );
    expect(event.rawQueryString).toBe('status=RUNNING&status=FAILED&q=a%20b&empty=');
    expect(event.queryStringParameters).toEqual({ status: 'RUNNING,FAILED', q: 'a b', empty: '' });
    expect(parseQuery('')).toBeUndefined();
    expect(toApiGatewayEvent(request({ url: '/me' })).queryStringParameters).toBeUndefined();
  });

  it('sets the greedy path parameter `proxy` without the leading slash, decoded', () => {
    const event = toApiGatewayEvent(request({ url: '/secrets/my%20key/x?y=1' }));
    expect(event.pathParameters).toEqual({ proxy: 'secrets/my key/x' });
    expect(event.rawPath).toBe('/secrets/my%20key/x');
  });

  it('keeps JSON and text bodies as text', () => {
    const body = Buffer.from('{"name":"é"}');
    const event = toApiGatewayEvent(
      request({ method: 'POST', headers: { 'content-type': ['application/json; charset=utf-8'] }, body }),
    );
    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBe('{"name":"é"}');
    expect(isTextContentType('text/csv')).toBe(true);
    expect(isTextContentType('application/problem+json')).toBe(true);
    expect(isTextContentType('application/vnd.api+xml')).toBe(true);
    expect(isTextContentType('application/x-www-form-urlencoded')).toBe(true);
  });

  it('base64-encodes binary bodies and bodies without a content type', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const binary = toApiGatewayEvent(
      request({ method: 'POST', headers: { 'content-type': ['application/octet-stream'] }, body: bytes }),
    );
    expect(binary.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.body ?? '', 'base64')).toEqual(bytes);
    const untyped = toApiGatewayEvent(request({ method: 'POST', headers: {}, body: Buffer.from('{}') }));
    expect(untyped.isBase64Encoded).toBe(true);
    expect(untyped.body).toBe(Buffer.from('{}').toString('base64'));
  });

  it('adds the x-forwarded-* headers API Gateway adds', () => {
    const event = toApiGatewayEvent(request());
    expect(event.headers).toMatchObject({
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '3000',
    });
  });

  it('builds the REQUEST authorizer event from the same request', () => {
    const event = toApiGatewayEvent(
      request({
        method: 'POST',
        url: '/users?x=1',
        headers: { Authorization: ['Bearer t'], Cookie: ['s=1'] },
      }),
    );
    const auth: APIGatewayRequestAuthorizerEventV2 = toAuthorizerEvent(event);
    expect(auth).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:us-east-1:000000000000:local/$default/POST/users',
      identitySource: [],
      routeKey: 'ANY /{proxy+}',
      rawPath: '/users',
      rawQueryString: 'x=1',
      cookies: ['s=1'],
      queryStringParameters: { x: '1' },
      pathParameters: { proxy: 'users' },
    });
    expect(auth.headers?.authorization).toBe('Bearer t');
  });
});

describe('routes of the HTTP API', () => {
  it('matches the public routes exactly and everything else through the authorizer', () => {
    expect(matchRoute('GET', '/health')).toEqual({ routeKey: 'GET /health', authorized: false });
    expect(matchRoute('GET', '/health/ready')).toEqual({ routeKey: 'GET /health/ready', authorized: false });
    expect(matchRoute('GET', '/openapi.json')).toEqual({ routeKey: 'GET /openapi.json', authorized: false });
    expect(matchRoute('POST', '/hooks/wh_1')).toEqual({
      routeKey: 'POST /hooks/{webhookId}',
      pathParameters: { webhookId: 'wh_1' },
      authorized: false,
    });
    expect(matchRoute('POST', '/health')).toMatchObject({ routeKey: 'ANY /{proxy+}', authorized: true });
    expect(matchRoute('GET', '/hooks/wh_1')).toMatchObject({ routeKey: 'ANY /{proxy+}', authorized: true });
    expect(matchRoute('GET', '/')).toBeUndefined();
  });
});

describe('handler result → HTTP response', () => {
  it('uses a structured result as is, with cookies as set-cookie', () => {
    const response = fromHandlerResult({
      statusCode: 201,
      headers: { 'Content-Type': 'application/json', 'X-Count': 3, 'X-Flag': true },
      body: '{"ok":true}',
      cookies: ['a=1', 'b=2'],
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers).toEqual({
      'content-type': 'application/json',
      'x-count': '3',
      'x-flag': 'true',
      'set-cookie': ['a=1', 'b=2'],
    });
    expect(response.body.toString()).toBe('{"ok":true}');
  });

  it('decodes base64 bodies', () => {
    const response = fromHandlerResult({
      statusCode: 200,
      body: Buffer.from([1, 2, 3]).toString('base64'),
      isBase64Encoded: true,
    });
    expect([...response.body]).toEqual([1, 2, 3]);
  });

  it('infers 200 JSON when there is no statusCode, like format 2.0', () => {
    const response = fromHandlerResult({ hello: 'world' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body.toString()).toBe('{"hello":"world"}');
  });

  it('turns an invalid status code into API Gateway 500', () => {
    expect(fromHandlerResult({ statusCode: 42 }).statusCode).toBe(500);
  });
});

describe('lambda context', () => {
  it('carries the request id and a deadline', () => {
    const context = lambdaContext('fn', 'req-1', 5_000);
    expect(context.awsRequestId).toBe('req-1');
    expect(context.functionName).toBe('fn');
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(4_000);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(5_000);
  });
});

/** What the stub API handler below answers. */
interface Echo {
  path: string;
  authorizer: unknown;
  requestId: string;
  bodyLength: number;
}

describe('gateway behaviour around the handlers', () => {
  const seen: { api: APIGatewayProxyEventV2[]; authorizer: APIGatewayRequestAuthorizerEventV2[] } = {
    api: [],
    authorizer: [],
  };
  const handlers: Handlers = {
    authorizer: async (event) => {
      seen.authorizer.push(event);
      const header = event.headers?.authorization;
      if (header === 'Bearer boom') throw new Error('authorizer exploded');
      if (header === 'Bearer deny') return { isAuthorized: false };
      return { isAuthorized: true, context: { authenticated: true, tenantId: 't1', roles: 'admin viewer' } };
    },
    api: async (event, context) => {
      seen.api.push(event);
      if (event.rawPath === '/throw') throw new Error('handler exploded');
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          path: event.rawPath,
          authorizer: 'authorizer' in event.requestContext ? event.requestContext.authorizer : null,
          requestId: context.awsRequestId,
          bodyLength: event.body?.length ?? 0,
        }),
      };
    },
  };
  const errors: string[] = [];
  let server: RunningApiServer;

  beforeAll(async () => {
    server = await startApiServer({
      handlers,
      port: 0,
      quiet: true,
      logError: (message) => errors.push(message),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('runs public routes without the authorizer', async () => {
    const before = seen.authorizer.length;
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ path: '/health', authorizer: null });
    expect(seen.authorizer.length).toBe(before);
  });

  it('passes the authorizer context as requestContext.authorizer.lambda', async () => {
    const response = await fetch(`${server.url}/me`, { headers: { authorization: 'Bearer ok' } });
    const body = (await response.json()) as Echo;
    expect(body.authorizer).toEqual({
      lambda: { authenticated: true, tenantId: 't1', roles: 'admin viewer' },
    });
    // The request id the client sees is the one the handler got.
    expect(response.headers.get('apigw-requestid')).toBe(body.requestId);
  });

  it('answers 403 {"message":"Forbidden"} when the authorizer denies', async () => {
    const response = await fetch(`${server.url}/me`, { headers: { authorization: 'Bearer deny' } });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Forbidden' });
  });

  it('answers 500 {"message":"Internal Server Error"} when a handler throws, and logs it', async () => {
    const thrown = await fetch(`${server.url}/throw`);
    expect(thrown.status).toBe(500);
    expect(await thrown.json()).toEqual({ message: 'Internal Server Error' });
    const authorizerThrown = await fetch(`${server.url}/me`, { headers: { authorization: 'Bearer boom' } });
    expect(authorizerThrown.status).toBe(500);
    expect(errors.some((line) => line.includes('api handler threw'))).toBe(true);
    expect(errors.some((line) => line.includes('authorizer threw'))).toBe(true);
  });

  it('answers 404 {"message":"Not Found"} for `/`, which no route matches', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'Not Found' });
  });

  it('answers 413 for bodies over API Gateway’s 10 MB without calling the handler', async () => {
    const before = seen.api.length;
    const response = await fetch(`${server.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(MAX_REQUEST_BYTES + 1),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ message: 'Request Entity Too Large' });
    expect(seen.api.length).toBe(before);
  });

  it('passes bodies just under the limit through', async () => {
    const response = await fetch(`${server.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(300 * 1024),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Echo).bodyLength).toBe(300 * 1024);
  });

  it('answers 503 when a handler outlives the integration timeout', async () => {
    const slow: Handlers = { ...handlers, api: () => new Promise((resolve) => setTimeout(resolve, 1_000)) };
    const response = await handleRequest(request({ url: '/health' }), slow, { timeoutMs: 20 });
    expect(response.statusCode).toBe(503);
  });
});
