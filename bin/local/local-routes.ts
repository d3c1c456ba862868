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
import { type LocalSso, SsoError } from './sso.ts';

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
  if (input.method !== 'GET') return gatewayResponse(404, 'Not Found');
  const requestId = input.requestId;
  try {
    if (url.pathname === '/local/mailbox') {
      if (!(await isPlatformAdmin(input, options.handlers))) {
        return problem(403, 'The local mailbox is for platform operators.', requestId);
      }
      const to = url.searchParams.get('to') ?? undefined;
      return json(200, { items: await LocalMailbox.of(options.stateDir).list(to) });
    }
    if (url.pathname === '/local/sso/start' || url.pathname === '/local/sso/callback') {
      const sso = options.sso;
      if (!sso) return problem(404, 'Single sign-on is not ready yet.', requestId);
      if (url.pathname === '/local/sso/start') {
        const location = await sso.start(url.searchParams);
        return { statusCode: 302, headers: { location }, body: Buffer.alloc(0) };
      }
      const { user, tokens } = await sso.callback(url.searchParams, {
        sourceIp: input.sourceIp,
        userAgent: input.headers['user-agent']?.[0] ?? '',
        requestId,
      });
      return json(200, {
        tokenType: 'Bearer',
        accessToken: tokens.accessToken,
        idToken: tokens.idToken,
        user: { userId: user.userId, tenantId: user.tenantId, email: user.email, roles: user.roles },
      });
    }
    return gatewayResponse(404, 'Not Found');
  } catch (error) {
    if (error instanceof SsoError) return problem(error.status, error.message, requestId);
    throw error;
  }
}
