import { PROBLEM_BASE } from './http.ts';
import { JSON_LIMITS } from './json-limits.ts';
import { type AnySchema, MAX_BODY_BYTES, type ResponseHeader, type Route } from './router.ts';
import { toJsonSchema } from './schema.ts';

type JsonObject = Record<string, unknown>;

const COMPONENT_PREFIX = '#/components/schemas/';

/** What each tag groups, shown by documentation tools. */
const TAG_DESCRIPTIONS: Readonly<Record<string, string>> = {
  platform: 'Health, identity and this document',
  tenants: 'Tenants (platform operators only)',
  users: "Users of the caller's tenant",
  teams: 'Teams: groups of users that share roles',
  roles: 'Built-in and custom roles and the permissions they grant',
  'api-keys': 'API keys: credentials for machines, acting with a subset of their owner’s permissions',
  secrets: 'Tenant secrets (write-only values, referenced by tools)',
  audit: 'The hash-chained audit trail',
  agents: 'Agents: versioned model configurations',
  tools: 'Tools: versioned HTTP or built-in functions agents and workflows call',
  workflows: 'Workflows: versioned step graphs, promotion between environments, diff and rollback',
  approvals: 'Human approval steps waiting for a decision',
  executions: 'Runs of a workflow version',
  usage: 'Usage, cost and the monthly budget',
  webhooks: 'Webhooks that start a workflow from a signed HTTP call',
  notifications: 'Notification channels (email, Slack, signed webhooks) and the delivery log',
  schedules: 'Schedules that start a workflow on a cron in an IANA time zone',
  identity: "Single sign-on: the tenant's identity providers, group → role mapping, and requiring SSO",
  tenant: "The caller's own tenant: data exports and execution retention",
};

const problemSchema: JsonObject = {
  type: 'object',
  description: 'An RFC 9457 problem document.',
  required: ['type', 'title', 'status', 'detail', 'requestId'],
  properties: {
    type: { type: 'string', format: 'uri', maxLength: 256, description: `${PROBLEM_BASE}<code>` },
    title: { type: 'string', maxLength: 256 },
    status: { type: 'integer', format: 'int32', minimum: 400, maximum: 599 },
    detail: { type: 'string', maxLength: 8192 },
    errors: {
      type: 'array',
      description: 'One entry per offending field',
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: {
          path: { type: 'string', maxLength: 1024 },
          message: { type: 'string', maxLength: 2048 },
        },
      },
    },
    requestId: { type: 'string', maxLength: 128, description: 'Quote it when you report a problem' },
  },
};

/** API Gateway's own answer when stage throttling refuses a request (not problem+json). */
const gatewayMessageSchema: JsonObject = {
  type: 'object',
  required: ['message'],
  properties: { message: { type: 'string', maxLength: 256 } },
};

/**
 * Named JSON Schemas shared by the whole document. A converted schema carries its named parts
 * (functions/shared/schema.ts, `named`) in a local `$defs`, which in OpenAPI 3.1 resolves against the
 * document root where nothing exists; they are moved here and every reference rewritten.
 */
class Components {
  readonly schemas: Record<string, JsonObject> = {
    Problem: problemSchema,
    GatewayMessage: gatewayMessageSchema,
  };

  /** Converts a schema; its named (and so its recursive) parts become components. */
  convert(schema: AnySchema, io: 'input' | 'output'): JsonObject {
    const out = toJsonSchema(schema);
    delete out.$schema;
    const defs = (out.$defs ?? {}) as Record<string, JsonObject>;
    delete out.$defs;
    for (const node of [out, ...Object.values(defs)]) {
      if (io === 'output') {
        openUp(node);
        requireDefaulted(node);
      } else boundInput(node);
      declareIntegerFormats(node);
    }
    // Names first (so references between definitions can be rewritten), then content.
    const local = new Map(Object.keys(defs).map((k) => [k, `?${k}`]));
    const rename = new Map<string, string>();
    const fresh = new Set<string>();
    for (const [key, def] of Object.entries(defs)) {
      const fingerprint = JSON.stringify(rewriteRefs(def, local));
      const name = this.nameFor(key, io, fingerprint);
      if (!this.fingerprints.has(name)) {
        this.fingerprints.set(name, fingerprint);
        fresh.add(name);
      }
      rename.set(key, name);
    }
    for (const [key, def] of Object.entries(defs)) {
      const name = rename.get(key) ?? key;
      if (fresh.has(name)) this.schemas[name] = rewriteRefs(def, rename) as JsonObject;
    }
    return rewriteRefs(out, rename) as JsonObject;
  }

  private readonly fingerprints = new Map<string, string>([
    ['Problem', 'built-in'],
    ['GatewayMessage', 'built-in'],
  ]);

  private nameFor(base: string, io: 'input' | 'output', fingerprint: string): string {
    // The same name may come back from another conversion: equal content reuses it, else a suffix.
    // Output variants always carry the suffix, so the spec linter can tell request schemas apart.
    const candidates = io === 'output' ? [`${base}Output`] : [base, `${base}Input`];
    for (let i = 2; i < 50; i++) candidates.push(`${base}${i}`);
    for (const name of candidates) {
      const known = this.fingerprints.get(name);
      if (known === undefined || known === fingerprint) return name;
    }
    throw new Error(`Too many different schemas named ${base}`);
  }
}

function rewriteRefs(node: unknown, rename: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, rename));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
      const key = v.slice('#/$defs/'.length);
      const name = rename.get(key) ?? key;
      out[k] = name.startsWith('?') ? name : `${COMPONENT_PREFIX}${name}`;
    } else {
      out[k] = rewriteRefs(v, rename);
    }
  }
  return out;
}

/** Response schemas stay open: a client must accept fields added later. */
function openUp(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) openUp(n);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as JsonObject;
  if (obj.additionalProperties === false) delete obj.additionalProperties;
  for (const v of Object.values(obj)) openUp(v);
}

/** A response always carries a field that has a default, so the output schema requires it. */
function requireDefaulted(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) requireDefaulted(n);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as JsonObject;
  const props = obj.properties as Record<string, JsonObject> | undefined;
  if (props && typeof props === 'object') {
    const required = new Set((obj.required ?? []) as string[]);
    const withDefaults = Object.keys(props).filter((k) => required.has(k) || props[k]?.default !== undefined);
    if (withDefaults.length > required.size) obj.required = withDefaults;
  }
  for (const v of Object.values(obj)) requireDefaulted(v);
}

/**
 * Every string and array in a body is bounded by the router's body cap, whatever its schema says;
 * where a schema sets no tighter bound, that cap is declared so that clients and linters see it.
 */
function boundInput(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) boundInput(n);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as JsonObject;
  const types = Array.isArray(obj.type) ? obj.type : [obj.type];
  if (
    types.includes('string') &&
    obj.maxLength === undefined &&
    obj.enum === undefined &&
    obj.const === undefined
  ) {
    obj.maxLength = MAX_BODY_BYTES;
  }
  // The smallest array element (`0,`) takes two bytes of the body.
  if (types.includes('array') && obj.maxItems === undefined) obj.maxItems = MAX_BODY_BYTES / 2;
  for (const v of Object.values(obj)) boundInput(v);
}

const INT32 = 2 ** 31;

/** Integers say whether they fit 32 bits, for generators that pick a numeric type by it. */
function declareIntegerFormats(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) declareIntegerFormats(n);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as JsonObject;
  if (obj.type === 'integer' && obj.format === undefined) {
    const min = typeof obj.minimum === 'number' ? obj.minimum : Number.NEGATIVE_INFINITY;
    const max = typeof obj.maximum === 'number' ? obj.maximum : Number.POSITIVE_INFINITY;
    obj.format = min >= -INT32 && max < INT32 ? 'int32' : 'int64';
  }
  for (const v of Object.values(obj)) declareIntegerFormats(v);
}

function parametersOf(
  components: Components,
  schema: AnySchema | undefined,
  where: 'path' | 'query',
): JsonObject[] {
  if (!schema) return [];
  const json = components.convert(schema, 'input');
  const props = (json.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const problemContent = { 'application/problem+json': { schema: { $ref: `${COMPONENT_PREFIX}Problem` } } };

const retryAfter: ResponseHeader = {
  description: 'Seconds to wait before retrying',
  schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86_400 },
};

function headerObjects(
  headers: Readonly<Record<string, ResponseHeader>> | undefined,
): JsonObject | undefined {
  if (!headers || Object.keys(headers).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(headers).map(([name, h]) => [
      name,
      { description: h.description, schema: h.schema ?? { type: 'string', maxLength: 2048 } },
    ]),
  );
}

const HEADER_PREFIX = '#/components/headers/';

/**
 * The rate limiter's headers (functions/shared/rate-limit-gate.ts), declared once and referenced by
 * every response that carries them: the 2xx answers of tenant callers, and the limiter's own 429.
 */
const RATE_LIMIT_HEADERS: Readonly<Record<string, JsonObject>> = {
  RateLimit: {
    description:
      'The limit closest to running out (IETF httpapi ratelimit-headers draft): its policy, the requests `r` left and the seconds `t` until it resets, e.g. `"api-key";r=57;t=4`. Sent to tenant callers (users and API keys).',
    schema: { type: 'string', maxLength: 256 },
  },
  'RateLimit-Policy': {
    description:
      'Every limit the request counted against: policy, quota `q` per window `w` (seconds), e.g. `"tenant";q=300;w=6, "api-key";q=120;w=6`. Sent to tenant callers (users and API keys).',
    schema: { type: 'string', maxLength: 512 },
  },
};

/** References to {@link RATE_LIMIT_HEADERS}, for a response's `headers`. */
const rateLimitHeaderRefs: JsonObject = Object.fromEntries(
  Object.keys(RATE_LIMIT_HEADERS).map((name) => [name, { $ref: `${HEADER_PREFIX}${name}` }]),
);

/**
 * Whether the rate limiter counts a route's callers: every route a tenant principal may call. Public
 * routes and operator-only routes are never counted (nor are signed webhook calls, which are public).
 */
function rateLimited(route: Route): boolean {
  return route.auth !== 'public' && route.auth !== 'platform';
}

/** A response with the rate limiter's headers added to those it declares. */
function withRateLimitHeaders(response: JsonObject): JsonObject {
  const headers = (response.headers ?? {}) as JsonObject;
  return { ...response, headers: { ...headers, ...rateLimitHeaderRefs } };
}

/**
 * The statuses every route can answer whatever it declares: the router's and the gateway's. A route
 * declares only its own (201, 404, 409, ...); these are added so that no client meets an undeclared one.
 */
function standardResponses(route: Route): Record<string, JsonObject> {
  const out: Record<string, JsonObject> = {};
  const validates = route.params || route.query || route.body || route.headers?.length;
  if (validates) {
    out['400'] = {
      description: 'Invalid request: problem+json naming each offending field',
      content: problemContent,
    };
  }
  if (route.auth !== 'public') {
    out['401'] = {
      description: 'Missing, invalid or expired credential',
      headers: headerObjects({
        'WWW-Authenticate': {
          description: 'The Bearer challenge; `error="invalid_token"` when a token was sent',
        },
      }),
      content: problemContent,
    };
    out['403'] = { description: 'Missing permission, or the tenant is suspended', content: problemContent };
  }
  out['413'] = { description: `The body is larger than ${MAX_BODY_BYTES} bytes`, content: problemContent };
  if (route.body) {
    out['415'] = { description: 'The body is not application/json', content: problemContent };
  }
  out['429'] = {
    description: 'Too many requests: the stage throttle, or a tenant quota',
    headers: headerObjects({ 'Retry-After': retryAfter }),
    content: {
      ...problemContent,
      'application/json': { schema: { $ref: `${COMPONENT_PREFIX}GatewayMessage` } },
    },
  };
  out['500'] = {
    description: 'Our failure; the body carries the request id and nothing internal',
    content: problemContent,
  };
  if (route.auth !== 'public') {
    out['503'] = {
      description: 'A dependency (credential check, model provider) is unavailable; retry',
      headers: headerObjects({ 'Retry-After': retryAfter }),
      content: problemContent,
    };
  }
  return out;
}

/** The operation id the document gives a route, e.g. `getAgentsAgentId`. */
export function operationIdOf(route: Pick<Route, 'method' | 'path'>): string {
  return `${route.method.toLowerCase()}${route.path
    .replace(/[{}]/g, '')
    .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
    .replace(/[^A-Za-z0-9]/g, '')}`;
}

const LIMITS_TEXT =
  `Every JSON body: at most ${JSON_LIMITS.maxBodyBytes} bytes (413 beyond), nested at most ` +
  `${JSON_LIMITS.maxDepth} levels, numbers within ±${JSON_LIMITS.maxAbsNumber} and, when not zero, ` +
  `at least ${JSON_LIMITS.minAbsNumber} in size, property names 1 to ${JSON_LIMITS.maxPropertyNameLength} ` +
  `characters, emails at most ${JSON_LIMITS.maxEmailLength}; otherwise 400 naming the field.`;

/**
 * Generates the OpenAPI 3.1 document from the same route declarations and schemas that validate
 * requests and describe responses, so the published contract cannot drift from what the API does.
 */
export function buildOpenApi(routes: readonly Route[], info: { title: string; version: string }): JsonObject {
  const components = new Components();
  const paths: Record<string, Record<string, JsonObject>> = {};
  const tags = new Set<string>();
  for (const route of routes) {
    const operationId = operationIdOf(route);
    tags.add(route.tag);
    const standard = standardResponses(route);
    const declared: Record<string, JsonObject> = {};
    for (const [status, r] of Object.entries(route.responses)) {
      const headers = headerObjects(r.headers);
      const content = r.schema
        ? { 'application/json': { schema: components.convert(r.schema, 'output') } }
        : Number(status) >= 400
          ? problemContent
          : undefined;
      declared[status] = {
        // A route's own words for a standard error keep the standard headers and body.
        ...(r.schema ? {} : (standard[status] ?? {})),
        description: r.description,
        ...(headers ? { headers } : {}),
        ...(content ? { content } : {}),
      };
    }
    const responses = Object.fromEntries(
      Object.entries({ ...standard, ...declared })
        .sort(([a], [b]) => Number(a) - Number(b))
        // The limiter's headers ride on every admitted answer and on its own 429 (not on errors the
        // route throws, which leave before they are added).
        .map(([status, response]) => [
          status,
          rateLimited(route) && (status.startsWith('2') || status === '429')
            ? withRateLimitHeaders(response)
            : response,
        ]),
    );
    const permission =
      route.auth === 'public'
        ? 'No credential needed.'
        : route.auth === 'platform'
          ? 'Platform operators only.'
          : route.auth === 'any'
            ? 'Any authenticated caller.'
            : route.auth === 'tenant'
              ? 'Any authenticated member of a tenant.'
              : `Needs the permission \`${route.auth}\`.`;
    const operation: JsonObject = {
      operationId,
      summary: route.summary,
      description: route.description ? `${route.description}\n\n${permission}` : permission,
      tags: [route.tag],
      security: route.auth === 'public' ? [] : [{ bearer: [] }, { apiKey: [] }],
      'x-meridian-permission': route.auth,
      parameters: [
        ...parametersOf(components, route.params, 'path'),
        ...parametersOf(components, route.query, 'query'),
        ...(route.headers ?? []).map((h) => ({
          name: h.name,
          in: 'header',
          required: h.required,
          description: h.description,
          schema: h.schema ?? { type: 'string', maxLength: 1024 },
        })),
      ],
      responses,
    };
    const body = route.bodyDoc ?? route.body;
    if (body) {
      operation.requestBody = {
        required: !route.bodyOptional,
        description: LIMITS_TEXT,
        content: { 'application/json': { schema: components.convert(body, 'input') } },
        'x-meridian-limits': JSON_LIMITS,
      };
    }
    paths[route.path] ??= {};
    const entry = paths[route.path];
    if (entry) entry[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Meridian: a multi-tenant platform for AI-agent workflows, deployed into your own AWS account. ' +
        'Errors are RFC 9457 problem+json with the offending field paths and a request id. The contract ' +
        'in prose is docs/api.md in the repository.',
      license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    'x-meridian-request-limits': JSON_LIMITS,
    servers: [
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: 'production (or any deployed stage): the `ApiUrl` output of `cdk deploy`',
        'x-internal': false,
        variables: {
          apiId: { default: 'abc123', description: 'The HTTP API id' },
          region: { default: 'us-east-1', description: 'The stack region' },
        },
      },
      {
        url: 'http://127.0.0.1:3000',
        description: 'local: the platform on your machine (`npm start`)',
        'x-internal': true,
      },
    ],
    tags: [...tags].map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name })),
    paths,
    components: {
      schemas: components.schemas,
      headers: RATE_LIMIT_HEADERS,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A Cognito access token (a JWT verified as RFC8725 advises: pinned algorithm, issuer, audience/client and token use, expiry)',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Api-Key',
          description: 'A Meridian API key (`mk_…`)',
        },
      },
    },
  };
}
