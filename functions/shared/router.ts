import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type Permission, PLATFORM_ADMIN } from '#core/access/permissions.ts';
import { ForbiddenError, TenantSuspendedError, TransientError, UnauthenticatedError } from '#core/errors.ts';
import type { Principal, RequestMeta, TenantPrincipal } from '#core/principal.ts';
import { type AuthorizerContext, principalFromContext } from './auth-context.ts';
import { errorResponse, HttpError, json } from './http.ts';
import { JSON_LIMITS, jsonLimitProblems } from './json-limits.ts';
import { logger } from './observability.ts';
import { type CheckOptions, check, type Static, type TSchema, type TUndefined } from './schema.ts';

/** The largest request body the API accepts (the contract's limit; API Gateway's own is 10 MB). */
export const MAX_BODY_BYTES = JSON_LIMITS.maxBodyBytes;

/** HTTP methods the API routes. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route: anyone (`public`), any authenticated tenant principal (`tenant`), any
 * authenticated caller including platform operators (`any`), platform operators only (`platform`),
 * or tenant principals holding one permission.
 */
export type RouteAuth = 'public' | 'any' | 'tenant' | 'platform' | Permission;

/** What a route handler receives: validated params, query and body, the caller and request facts. */
export interface RouteContext<P, Q, B, A extends Principal | undefined> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly principal: A;
  readonly meta: RequestMeta;
  /** Lower-cased request headers. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The body exactly as received (for signatures over it), decoded from base64 when needed. */
  readonly rawBody: string;
}

/** What a route handler returns; the router shapes it into the HTTP response. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

type PrincipalFor<A extends RouteAuth> = A extends 'public'
  ? undefined
  : A extends 'any'
    ? Principal
    : A extends 'platform'
      ? Principal & { kind: 'platform' }
      : TenantPrincipal;

/** A response header as the OpenAPI document declares it. */
export interface ResponseHeader {
  readonly description: string;
  /** JSON Schema of the value; a bounded string when absent. */
  readonly schema?: Readonly<Record<string, unknown>>;
}

/** A schema of a request part or response (functions/shared/schema.ts). */
export type AnySchema = TSchema;

/** The value a schema yields; `undefined` for a part the route does not declare. */
export type Out<S> = S extends TSchema ? Static<S> : undefined;

/** One documented response: its description, body schema (JSON) and headers. */
export interface ResponseDoc {
  readonly description: string;
  /** The body the handler returns; response schemas are published open to new fields. */
  readonly schema?: AnySchema;
  readonly headers?: Readonly<Record<string, ResponseHeader>>;
}

/** A route as it is declared: schemas for params, query and body, and the handler. */
export interface RouteSpec<
  A extends RouteAuth,
  P extends AnySchema,
  Q extends AnySchema,
  B extends AnySchema,
> {
  readonly method: HttpMethod;
  /** Path with `{name}` parameters, e.g. `/users/{userId}`. */
  readonly path: string;
  readonly summary: string;
  /** Longer prose for the OpenAPI operation (the permission is appended). */
  readonly description?: string;
  readonly tag: string;
  readonly auth: A;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /** Documents the body in OpenAPI when `body` only checks that it is JSON (the core validates it fully). */
  readonly bodyDoc?: AnySchema;
  /** The body may be absent (an empty body is accepted). */
  readonly bodyOptional?: boolean;
  /**
   * The route's own responses: success statuses and the errors only it answers (404, 409, 402, ...).
   * The OpenAPI generator adds those every route can answer (400, 401, 403, 413, 415, 429, 500, 503).
   */
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  /** Extra request headers to document (e.g. `Idempotency-Key`). */
  readonly headers?: readonly {
    readonly name: string;
    readonly required: boolean;
    readonly description: string;
    readonly schema?: Readonly<Record<string, unknown>>;
  }[];
  readonly handler: (ctx: RouteContext<Out<P>, Out<Q>, Out<B>, PrincipalFor<A>>) => Promise<Reply>;
}

/** A declared route with its types erased, ready for the router. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly auth: RouteAuth;
  readonly params?: AnySchema;
  readonly query?: AnySchema;
  readonly body?: AnySchema;
  readonly bodyDoc?: AnySchema;
  readonly bodyOptional?: boolean;
  readonly responses: RouteSpec<RouteAuth, AnySchema, AnySchema, AnySchema>['responses'];
  readonly headers?: RouteSpec<RouteAuth, AnySchema, AnySchema, AnySchema>['headers'];
  readonly run: (raw: RawRequest) => Promise<Reply>;
}

interface RawRequest {
  readonly params: Record<string, string>;
  readonly query: Record<string, string>;
  readonly body: unknown;
  readonly principal: Principal | undefined;
  readonly meta: RequestMeta;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: string;
}

/** Declares a route; types of params, query, body and principal flow from the schemas and `auth`. */
export function defineRoute<
  A extends RouteAuth,
  P extends AnySchema = TUndefined,
  Q extends AnySchema = TUndefined,
  B extends AnySchema = TUndefined,
>(spec: RouteSpec<A, P, Q, B>): Route {
  return {
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tag: spec.tag,
    auth: spec.auth,
    params: spec.params,
    query: spec.query,
    body: spec.body,
    ...(spec.bodyDoc ? { bodyDoc: spec.bodyDoc } : {}),
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.bodyOptional ? { bodyOptional: true } : {}),
    responses: spec.responses,
    headers: spec.headers,
    run: async (raw) => {
      const problems: { path: string; message: string }[] = [];
      const params = parsePart(spec.params, raw.params, 'path', problems, { coerce: true });
      const query = parsePart(spec.query, raw.query, 'query', problems, { coerce: true });
      // The body was parsed for this request alone (Router.handle, readJsonBody): checked in place.
      const body = parsePart(spec.body, raw.body, '', problems, { owned: true });
      if (problems.length > 0) {
        throw new HttpError(400, 'validation-error', 'Invalid request', describe(problems), problems);
      }
      return spec.handler({
        params,
        query,
        body,
        principal: raw.principal as PrincipalFor<A>,
        meta: raw.meta,
        headers: raw.headers,
        rawBody: raw.rawBody,
      } as RouteContext<Out<P>, Out<Q>, Out<B>, PrincipalFor<A>>);
    },
  };
}

function describe(problems: readonly { path: string; message: string }[]): string {
  const first = problems[0];
  if (!first) return 'The request is invalid.';
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return `${first.path || 'body'}: ${first.message}${more}`;
}

function parsePart<S extends AnySchema>(
  schema: S | undefined,
  value: unknown,
  prefix: string,
  problems: { path: string; message: string }[],
  options: Pick<CheckOptions, 'coerce' | 'owned'>,
): Out<S> {
  if (!schema) return undefined as Out<S>;
  const result = check(schema, value, options);
  if (result.ok) return result.value as Out<S>;
  for (const p of result.problems) {
    problems.push({ path: [prefix, p.path].filter((x) => x !== '').join('.'), message: p.message });
  }
  return undefined as Out<S>;
}

interface CompiledRoute {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const match = /^\{(\w+)\}$/.exec(segment);
      if (!match?.[1]) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(match[1]);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}/?$`), names };
}

/** Checks `auth` against the caller; throws 401/403 domain errors. */
export function authorize(auth: RouteAuth, principal: Principal | undefined, tenantStatus?: string): void {
  if (auth === 'public') return;
  if (!principal) throw new UnauthenticatedError('A valid bearer token or API key is required.');
  // Only an active tenant gets in: a status this code does not know (or none) is refused too.
  if (principal.kind === 'tenant' && tenantStatus !== 'active') {
    throw new TenantSuspendedError('This tenant is not active; contact your platform operator.');
  }
  if (auth === 'any') return;
  if (auth === 'platform') {
    if (principal.kind !== 'platform') throw new ForbiddenError(`This route needs ${PLATFORM_ADMIN}.`);
    return;
  }
  if (principal.kind !== 'tenant') {
    throw new ForbiddenError('Platform operators can only use the /tenants routes.');
  }
  if (auth !== 'tenant' && !principal.permissions.has(auth)) {
    throw new ForbiddenError(`This route needs the permission ${auth}.`);
  }
}

type ApiEvent = APIGatewayProxyEventV2 & {
  requestContext: APIGatewayProxyEventV2['requestContext'] & {
    authorizer?: { lambda?: AuthorizerContext };
  };
};

/**
 * Runs after authorization and before validation for every tenant request: throws to refuse it
 * (rate limits answer 429), or returns headers to add to the reply.
 */
export type Admission = (
  principal: TenantPrincipal,
  auth: AuthorizerContext | undefined,
) => Promise<Readonly<Record<string, string>>>;

/** Optional behaviour of a {@link Router}. */
export interface RouterOptions {
  readonly admit?: Admission;
}

/** Matches requests to routes, validates, authorizes, runs the handler and shapes the response. */
export class Router {
  private readonly compiled: readonly CompiledRoute[];

  constructor(
    readonly routes: readonly Route[],
    private readonly options: RouterOptions = {},
  ) {
    this.compiled = routes.map(compile);
  }

  /** Handles one API Gateway HTTP API (payload v2) event. */
  async handle(event: ApiEvent): Promise<APIGatewayProxyStructuredResultV2> {
    const requestId = event.requestContext.requestId;
    try {
      const reply = await this.dispatch(event, requestId);
      const headers = { ...(reply.headers ?? {}) };
      if (reply.body === undefined) {
        return { statusCode: reply.status, headers: { 'cache-control': 'no-store', ...headers }, body: '' };
      }
      return json(reply.status, reply.body, headers);
    } catch (error) {
      return errorResponse(error, requestId);
    }
  }

  private async dispatch(event: ApiEvent, requestId: string): Promise<Reply> {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    // Checked before routing so that no route, with or without a body schema, takes a larger body.
    const rawLength = event.body
      ? event.isBase64Encoded
        ? Math.floor((event.body.length * 3) / 4)
        : Buffer.byteLength(event.body, 'utf8')
      : 0;
    if (rawLength > MAX_BODY_BYTES) {
      throw new HttpError(
        413,
        'payload-too-large',
        'Payload too large',
        `The body is larger than ${MAX_BODY_BYTES} bytes.`,
      );
    }
    const matches = this.compiled
      .map((c) => ({ c, m: c.pattern.exec(path) }))
      .filter((x): x is { c: CompiledRoute; m: RegExpExecArray } => x.m !== null);
    if (matches.length === 0) {
      throw new HttpError(404, 'not-found', 'Not found', `No route matches ${path}.`);
    }
    const hit = matches.find((x) => x.c.route.method === method);
    if (!hit) {
      const allow = [...new Set(matches.map((x) => x.c.route.method))].join(', ');
      throw new HttpError(
        405,
        'method-not-allowed',
        'Method not allowed',
        `${method} is not allowed on ${path}; use ${allow}.`,
        [],
        { allow },
      );
    }
    const { route } = hit.c;
    const authContext = event.requestContext.authorizer?.lambda;
    const principal = principalFromContext(authContext);
    if (route.auth !== 'public' && !principal && authContext?.reason === 'authorizer-error') {
      // Our dependency failed, not the caller's credential: say so, so clients retry instead of re-login.
      throw new TransientError('Credentials could not be checked right now; retry shortly.');
    }
    if (route.auth !== 'public' && !principal) {
      // RFC 6750: a sent token that failed says invalid_token (and why), so clients know to refresh.
      const challenge =
        authContext?.reason === 'expired-token'
          ? 'Bearer error="invalid_token", error_description="The access token has expired"'
          : authContext?.reason === 'invalid-token'
            ? 'Bearer error="invalid_token", error_description="The access token is not valid"'
            : 'Bearer';
      throw new HttpError(
        401,
        'unauthenticated',
        'Unauthorized',
        authContext?.reason === 'expired-token'
          ? 'The access token has expired; get a new one.'
          : 'A valid bearer token or API key is required.',
        [],
        { 'www-authenticate': challenge },
      );
    }
    authorize(route.auth, principal, authContext?.tenantStatus);
    const admitted =
      principal?.kind === 'tenant' && this.options.admit
        ? await this.options.admit(principal, authContext)
        : {};

    const params: Record<string, string> = {};
    hit.c.names.forEach((name, i) => {
      params[name] = safeDecode(hit.m[i + 1] ?? '');
    });
    const headers = lowerHeaders(event.headers);
    const body = route.body ? readJsonBody(event, headers) : undefined;
    const meta: RequestMeta = {
      requestId,
      sourceIp: event.requestContext.http.sourceIp,
      userAgent: event.requestContext.http.userAgent ?? '',
      now: new Date(event.requestContext.timeEpoch || Date.now()).toISOString(),
    };
    logger.appendKeys({
      route: `${route.method} ${route.path}`,
      ...(principal?.kind === 'tenant' ? { tenantId: principal.tenantId } : {}),
    });
    const reply = await route.run({
      params,
      query: { ...(event.queryStringParameters ?? {}) } as Record<string, string>,
      body,
      principal,
      meta,
      headers,
      rawBody: event.body
        ? event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body
        : '',
    });
    return { ...reply, headers: { ...admitted, ...reply.headers } };
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, 'validation-error', 'Invalid request', 'The path is not valid URL encoding.');
  }
}

function lowerHeaders(headers: APIGatewayProxyEventV2['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/** Reads the JSON body, enforcing size and content type; malformed JSON is a clear 400. */
function readJsonBody(event: APIGatewayProxyEventV2, headers: Record<string, string | undefined>): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (text.trim() === '') return undefined;
  const type = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new HttpError(
      415,
      'unsupported-media-type',
      'Unsupported media type',
      `Send the body as application/json (got ${type === '' ? 'no content type' : type}).`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'unreadable';
    throw new HttpError(400, 'malformed-json', 'Malformed JSON', `The body is not valid JSON: ${reason}.`);
  }
  // Before any schema: a body the stores cannot hold must be a 400 naming the field, not a 500 later.
  const problems = jsonLimitProblems(parsed);
  if (problems.length > 0) {
    throw new HttpError(400, 'validation-error', 'Invalid request', describe(problems), problems);
  }
  return parsed;
}
