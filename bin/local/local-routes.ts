import { randomUUID } from 'node:crypto';
import { LocalMailbox } from '#adapters/local-mailbox.ts';
import {
  gatewayResponse,
  type Handlers,
  type HttpRequestInput,
  type HttpResponse,
  LOCAL_GATEWAY,
  lambdaContext,
  toApiGatewayEvent,
  toAuthorizerEvent,
} from './gateway.ts';
import { type LocalSso, OAuthError, SsoError } from './sso.ts';

/**
 * Routes only the local platform has, served before the API Gateway stand-in and absent from the
 * public API and its OpenAPI document: the mailbox (platform operators) and the SSO relying party.
 */
export interface LocalRoutesOptions {
  readonly stateDir: string;
  readonly handlers: Handlers;
  /** Set once the relying party is ready (after the API server has its URL). */
  sso?: LocalSso;
}

function json(statusCode: number, body: unknown, type = 'application/json'): HttpResponse {
  return { statusCode, headers: { 'content-type': type }, body: Buffer.from(JSON.stringify(body)) };
}

function problem(status: number, detail: string, requestId: string): HttpResponse {
  const title = status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Bad Request';
  return json(status, { type: 'about:blank', title, status, detail, requestId }, 'application/problem+json');
}

function redirect(location: string): HttpResponse {
  return { statusCode: 302, headers: { location, 'cache-control': 'no-store' }, body: Buffer.alloc(0) };
}

/** The origin the browser used (Host header; the local platform speaks http only). */
function requestOrigin(input: HttpRequestInput): string | undefined {
  const host = input.headers.host?.[0];
  if (!host) return undefined;
  try {
    const url = new URL(`http://${host}`);
    return url.host === host.toLowerCase() ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** `POST /local/sso/token`: OAuth's token endpoint for the console; errors as RFC 6749 §5.2 says. */
async function consoleToken(input: HttpRequestInput, options: LocalRoutesOptions): Promise<HttpResponse> {
  const oauth = (status: number, body: unknown): HttpResponse => ({
    statusCode: status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' },
    body: Buffer.from(JSON.stringify(body)),
  });
  if (input.method !== 'POST')
    return { ...oauth(405, { error: 'invalid_request' }), headers: { allow: 'POST' } };
  const type = input.headers['content-type']?.[0] ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded') || input.body.length > 16_384) {
    return oauth(400, { error: 'invalid_request' });
  }
  const sso = options.sso;
  if (!sso)
    return oauth(400, { error: 'invalid_request', error_description: 'Single sign-on is not ready yet.' });
  try {
    return oauth(200, await sso.token(new URLSearchParams(input.body.toString('utf8'))));
  } catch (error) {
    if (error instanceof OAuthError) return oauth(400, { error: error.error });
    throw error;
  }
}

/** Whether the request carries a platform operator's credential, decided by the real authorizer. */
async function isPlatformAdmin(input: HttpRequestInput, handlers: Handlers): Promise<boolean> {
  const event = toApiGatewayEvent(input, { routeKey: 'GET /local/mailbox', authorized: true });
  const result = (await handlers.authorizer(
    toAuthorizerEvent(event),
    lambdaContext(LOCAL_GATEWAY.authorizerFunctionName, randomUUID(), 10_000),
  )) as { isAuthorized?: boolean; context?: Record<string, unknown> };
  return result.isAuthorized === true && result.context?.principalType === 'platform';
}

/** Answers a `/local/...` request, or undefined when the path is not one of these routes. */
export async function localRoute(
  input: HttpRequestInput,
  options: LocalRoutesOptions,
): Promise<HttpResponse | undefined> {
  const url = new URL(input.url, 'http://local');
  if (!url.pathname.startsWith('/local/')) return undefined;
  const requestId = input.requestId;
  if (url.pathname === '/local/sso/token') return consoleToken(input, options);
  if (input.method !== 'GET') return gatewayResponse(404, 'Not Found');
  try {
    if (url.pathname === '/local/mailbox') {
      if (!(await isPlatformAdmin(input, options.handlers))) {
        return problem(403, 'The local mailbox is for platform operators.', requestId);
      }
      const to = url.searchParams.get('to') ?? undefined;
      return json(200, { items: await LocalMailbox.of(options.stateDir).list(to) });
    }
    if (['/local/sso/start', '/local/sso/callback', '/local/sso/authorize'].includes(url.pathname)) {
      const sso = options.sso;
      if (!sso) return problem(404, 'Single sign-on is not ready yet.', requestId);
      if (url.pathname === '/local/sso/start') return redirect(await sso.start(url.searchParams));
      if (url.pathname === '/local/sso/authorize') {
        return redirect(await sso.authorize(url.searchParams, requestOrigin(input)));
      }
      const {
        user,
        tokens,
        console: consoleRequest,
      } = await sso.callback(url.searchParams, {
        sourceIp: input.sourceIp,
        userAgent: input.headers['user-agent']?.[0] ?? '',
        requestId,
      });
      // A console sign-in goes back to the console with a one-time code, never with the tokens.
      if (consoleRequest) return redirect(sso.issueConsoleCode(consoleRequest, tokens));
      return json(200, {
        tokenType: 'Bearer',
        accessToken: tokens.accessToken,
        idToken: tokens.idToken,
        user: { userId: user.userId, tenantId: user.tenantId, email: user.email, roles: user.roles },
      });
    }
    return gatewayResponse(404, 'Not Found');
  } catch (error) {
    if (error instanceof SsoError) {
      return error.location ? redirect(error.location) : problem(error.status, error.message, requestId);
    }
    throw error;
  }
}
