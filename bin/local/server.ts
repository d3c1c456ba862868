import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithLambdaAuthorizer } from 'aws-lambda';
import { type ConsoleOptions, serveConsole } from './console.ts';
import {
  type AuthorizerContextValues,
  fromHandlerResult,
  gatewayResponse,
  type Handlers,
  type HttpRequestInput,
  type HttpResponse,
  INTEGRATION_TIMEOUT_MS,
  LOCAL_GATEWAY,
  lambdaContext,
  MAX_REQUEST_BYTES,
  matchRoute,
  toApiGatewayEvent,
  toAuthorizerEvent,
} from './gateway.ts';

/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0, Lambda authorizer with simple
 * responses): it turns each HTTP request into the event AWS would deliver, runs the authorizer on the
 * routes AWS would, then the API handler, and writes back what the handler returned. Gateway-made
 * answers (403, 404, 413, 500, 503) use API Gateway's own `{"message": ...}` bodies.
 */

// The request → event translation lives in gateway.ts; re-exported so callers need one module.
export * from './gateway.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Thrown inside {@link readBody} when a request is larger than API Gateway accepts. */
class PayloadTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    let size = 0;
    let tooLarge = declared > limit;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      // Keep draining (so the client sees the 413 rather than a reset), but keep nothing.
      if (!tooLarge) chunks.push(chunk);
      else chunks.length = 0;
      if (size > limit * 10) req.destroy();
    });
    req.on('end', () => (tooLarge ? reject(new PayloadTooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
    // Destroyed (client gone, or far too large): settle anyway; nothing can be written back.
    req.on('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}

const TIMED_OUT = Symbol('timed out');

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Options of {@link startApiServer}. */
export interface ApiServerOptions {
  readonly handlers: Handlers;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  /** No access log lines. */
  readonly quiet?: boolean;
  /** Where access log lines and handler errors go (default: console). */
  readonly log?: (line: string) => void;
  readonly logError?: (message: string, error: unknown) => void;
  readonly timeoutMs?: number;
  /** Routes only the local platform has (`/local/...`), tried before the gateway's. */
  readonly local?: (input: HttpRequestInput) => Promise<HttpResponse | undefined>;
  /** Serves the console at /console/ on this origin (static files and its config.json). */
  readonly console?: ConsoleOptions;
}

/** The running local API. */
export interface RunningApiServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Runs one request through the gateway logic: route, authorizer, handler; never throws (a handler
 * error is a 500, as on AWS).
 */
export async function handleRequest(
  input: HttpRequestInput,
  handlers: Handlers,
  options: Pick<ApiServerOptions, 'logError' | 'timeoutMs'> = {},
): Promise<HttpResponse> {
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const timeoutMs = options.timeoutMs ?? INTEGRATION_TIMEOUT_MS;
  const rawPath = input.url.split('?')[0] ?? input.url;
  const route = matchRoute(input.method, rawPath);
  if (!route) return gatewayResponse(404, 'Not Found');
  const event = toApiGatewayEvent(input, route);

  let authorizerContext: AuthorizerContextValues | undefined;
  if (route.authorized) {
    let response: unknown;
    try {
      response = await withTimeout(
        handlers.authorizer(
          toAuthorizerEvent(event),
          lambdaContext(LOCAL_GATEWAY.authorizerFunctionName, randomUUID(), 10_000),
        ),
        timeoutMs,
      );
    } catch (error) {
      logError(`authorizer threw on ${input.method} ${rawPath}`, error);
      return gatewayResponse(500, 'Internal Server Error');
    }
    if (response === TIMED_OUT) return gatewayResponse(503, 'Service Unavailable');
    if (!isRecord(response) || typeof response.isAuthorized !== 'boolean') {
      logError(`authorizer returned an invalid simple response on ${input.method} ${rawPath}`, response);
      return gatewayResponse(500, 'Internal Server Error');
    }
    if (!response.isAuthorized) return gatewayResponse(403, 'Forbidden');
    authorizerContext = {};
    if (isRecord(response.context)) {
      for (const [key, value] of Object.entries(response.context)) {
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
          authorizerContext[key] = value;
        }
      }
    }
  }

  const apiEvent:
    | APIGatewayProxyEventV2
    | APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContextValues> =
    authorizerContext === undefined
      ? event
      : { ...event, requestContext: { ...event.requestContext, authorizer: { lambda: authorizerContext } } };
  try {
    const result = await withTimeout(
      handlers.api(apiEvent, lambdaContext(LOCAL_GATEWAY.apiFunctionName, input.requestId)),
      timeoutMs,
    );
    if (result === TIMED_OUT) return gatewayResponse(503, 'Service Unavailable');
    return fromHandlerResult(result);
  } catch (error) {
    logError(`api handler threw on ${input.method} ${rawPath}`, error);
    return gatewayResponse(500, 'Internal Server Error');
  }
}

function writeResponse(res: ServerResponse, response: HttpResponse, requestId: string): void {
  res.statusCode = response.statusCode;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.setHeader('apigw-requestid', requestId);
  res.setHeader('content-length', response.body.length);
  res.end(response.body);
}

function distinctHeaders(headers: IncomingHttpHeaders): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value : [value];
  }
  return out;
}

/** Starts the local API on `host:port` (127.0.0.1 by default: nothing is exposed to the network). */
export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const server = createServer(async (req, res) => {
    const started = performance.now();
    const requestId = randomUUID();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    if (options.console && (await serveConsole(req, res, options.console))) {
      if (!options.quiet) log(`${method} ${url.split('?')[0]} ${res.statusCode} (console)`);
      return;
    }
    let response: HttpResponse;
    try {
      const body = await readBody(req, MAX_REQUEST_BYTES);
      const input: HttpRequestInput = {
        method,
        url,
        headers: req.headersDistinct ?? distinctHeaders(req.headers),
        body,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        protocol: `HTTP/${req.httpVersion}`,
        requestId,
        now: new Date(),
        domainName: req.headers.host,
      };
      response = (await options.local?.(input)) ?? (await handleRequest(input, options.handlers, options));
    } catch (error) {
      response =
        error instanceof PayloadTooLarge
          ? gatewayResponse(413, 'Request Entity Too Large')
          : gatewayResponse(500, 'Internal Server Error');
      if (!(error instanceof PayloadTooLarge)) (options.logError ?? console.error)('request failed', error);
    }
    if (!res.destroyed) writeResponse(res, response, requestId);
    if (!options.quiet) {
      const ms = (performance.now() - started).toFixed(0);
      log(`${method} ${url.split('?')[0]} ${response.statusCode} ${ms}ms`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
