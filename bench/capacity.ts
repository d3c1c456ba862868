/**
 * Section 4: DynamoDB requests and capacity per route, against DynamoDB Local.
 *
 * The local platform runs in this process (bench/local-session.ts), so its handlers share their
 * module singletons with the benchmark: the DynamoDB document client of
 * functions/adapters/aws-clients.ts (every tenant's client locally, where no tenant data role is
 * assumed) has a recording middleware, and the authorizer's `authenticator` runs in its own phase so
 * its requests are counted apart from the route's. Product code is not changed.
 */
import { randomBytes } from 'node:crypto';
import { type DynamoCall, READ_OPERATIONS, SINGLE_WRITE_OPERATIONS } from './dynamo-recorder.ts';
import type { BenchPlatform } from './local-session.ts';

/** Who calls a route. */
type Caller = 'tenant admin' | 'platform admin' | 'public';

/** What a route should cost: one read request, one transaction, or nothing but the no-Scan rule. */
export type Expectation = 'read' | 'write' | 'any';

/** Ids created along the way, for the routes that need them. */
type Ids = Record<string, string>;

interface Step {
  /** Route as the router declares it, e.g. `PATCH /users/{userId}`, plus an optional variant note. */
  readonly route: string;
  readonly variant?: string;
  readonly caller: Caller;
  readonly expect: Expectation;
  request(ids: Ids): { method: string; path: string; body?: unknown };
  /** Reads ids out of the response for later steps. */
  capture?(body: unknown, ids: Ids): void;
}

/** One route's measurement. */
export interface RouteResult {
  readonly route: string;
  readonly variant?: string;
  readonly caller: Caller;
  readonly status: number;
  readonly expect: Expectation;
  /** The route's own requests (the authorizer's are in `authorizerCalls`). */
  readonly calls: readonly DynamoCall[];
  /** The authorizer's requests during this call: none while its cache is warm. */
  readonly authorizerCalls: readonly DynamoCall[];
  readonly verdict: 'PASS' | 'MISS' | 'ERROR';
  readonly why: string;
}

/** The authorizer's requests on the first (cold) and second (warm) request of one credential. */
export interface AuthorizerCost {
  readonly credential: string;
  readonly cold: readonly DynamoCall[];
  readonly warm: readonly DynamoCall[];
}

/** Everything section 4 measured. */
export interface CapacityResults {
  readonly routes: readonly RouteResult[];
  readonly authorizer: readonly AuthorizerCost[];
  /** Routes the API declares that no step exercised. */
  readonly notExercised: readonly string[];
  /** Control-plane requests seen (no capacity reported), by operation. */
  readonly uncounted: Readonly<Record<string, number>>;
  readonly startMs: number;
}

/** A string field of a JSON response body; throws naming it when absent. */
export function field(body: unknown, name: string): string {
  const value = typeof body === 'object' && body !== null ? Reflect.get(body, name) : undefined;
  if (typeof value !== 'string') throw new Error(`Response has no string "${name}": ${JSON.stringify(body)}`);
  return value;
}

function need(ids: Ids, name: string): string {
  const value = ids[name];
  if (value === undefined) throw new Error(`No ${name}: the step that creates it failed`);
  return value;
}

const inAMonth = (): string => new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();

/** The routes of the tenancy and access-control contract, in an order where each has what it needs. */
function steps(suffix: string): Step[] {
  const roleName = `bench-${suffix}`;
  const secretName = `bench-${suffix}`;
  return [
    {
      route: 'GET /health',
      caller: 'public',
      expect: 'any',
      request: () => ({ method: 'GET', path: '/health' }),
    },
    {
      route: 'GET /health/ready',
      caller: 'public',
      expect: 'any',
      request: () => ({ method: 'GET', path: '/health/ready' }),
    },
    {
      route: 'GET /me',
      caller: 'tenant admin',
      expect: 'read',
      request: () => ({ method: 'GET', path: '/me' }),
    },
    {
      route: 'POST /roles',
      caller: 'tenant admin',
      expect: 'write',
      request: () => ({
        method: 'POST',
        path: '/roles',
        body: { name: roleName, permissions: ['workflows:read'] },
      }),
      capture: (body, ids) => {
        ids.role = field(body, 'name');
      },
    },
    {
      route: 'GET /roles',
      caller: 'tenant admin',
      expect: 'read',
      request: () => ({ method: 'GET', path: '/roles' }),
    },
    {
      route: 'GET /roles/{name}',
      variant: 'custom role',
      caller: 'tenant admin',
      expect: 'read',
      request: (ids) => ({ method: 'GET', path: `/roles/${need(ids, 'role')}` }),
    },
    {
      route: 'PUT /roles/{name}',
      caller: 'tenant admin',
      expect: 'write',
      request: (ids) => ({
        method: 'PUT',
        path: `/roles/${need(ids, 'role')}`,
        body: { permissions: ['workflows:read', 'agents:read'] },
      }),
    },
    {
      route: 'POST /users',
      variant: 'roles viewer + the custom role',
      caller: 'tenant admin',
      expect: 'write',
      request: (ids) => ({
        method: 'POST',
        path: '/users',
        body: { email: `bench-${suffix}@example.com`, roles: ['viewer', need(ids, 'role')] },
      }),
      capture: (body, ids) => {
        ids.user = field(body, 'userId');
      },
    },
    {
      route: 'GET /users',
      caller: 'tenant admin',
      expect: 'read',
      request: () => ({ method: 'GET', path: '/users' }),
    },
    {
      route: 'GET /users/{userId}',
      caller: 'tenant admin',
      expect: 'read',
      request: (ids) => ({ method: 'GET', path: `/users/${need(ids, 'user')}` }),
    },
    {
      route: 'PATCH /users/{userId}',
      variant: 'roles → developer',
      caller: 'tenant admin',
      expect: 'write',
      request: (ids) => ({
        method: 'PATCH',
        path: `/users/${need(ids, 'user')}`,
        body: { roles: ['developer'] },
      }),
    },
    {
      route: 'DELETE /roles/{name}',
      caller: 'tenant admin',
      expect: 'write',
      request: (ids) => ({ method: 'DELETE', path: `/roles/${need(ids, 'role')}` }),
    },
    {
      route: 'POST /teams',
      variant: 'one member',
      caller: 'tenant admin',
      expect: 'write',
      request: (ids) => ({
        method: 'POST',
        path: '/teams',
        body: { name: `Bench ${suffix}`, members: [need(ids, 'user')] },
      }),
      capture: (body, ids) => {
        ids.team = field(body, 'teamId');
      },
    },
    {
      route: 'GET /teams',
      caller: 'tenant admin',
      expect: 'read',
      request: () => ({ method: 'GET', path: '/teams' }),
    },
    {
      route: 'GET /teams/{teamId}',
      caller: 'tenant admin',
      expect: 'read',
      request: (ids) => ({ method: 'GET', path: `/teams/${need(ids, 'team')}` }),
    },
    {
      route: 'PATCH /teams/{teamId}',
      variant: 'description',
      caller: 'tenant admin',
      expect: 'write',
      request: (ids) => ({
        method: 'PATCH',
        path: `/teams/${need(ids, 'team')}`,
        body: { description: 'benchmark team' },
      }),
    },
    {
      route: 'DELETE /teams/{teamId}',
      caller: 'tenant admin',
      expect: 'write',
      request: (ids) => ({ method: 'DELETE', path: `/teams/${need(ids, 'team')}` }),
    },
    {
      route: 'DELETE /users/{userId}',
      caller: 'tenant admin',
      expect: 'write',
      request: (ids) => ({ method: 'DELETE', path: `/users/${need(ids, 'user')}` }),
    },
    {
      route: 'POST /api-keys',
      caller: 'tenant admin',
      expect: 'write',
      request: () => ({
        method: 'POST',
        path: '/api-keys',
        body: { name: `bench ${suffix}`, scopes: ['audit:read'], expiresAt: inAMonth() },
      }),
      capture: (body, ids) => {
        ids.apiKeyId = field(body, 'keyId');
        ids.apiKey = field(body, 'key');
      },
    },
    {
      route: 'GET /api-keys',
      caller: 'tenant admin',
      expect: 'read',
      request: () => ({ method: 'GET', path: '/api-keys' }),
    },
    {
      route: 'POST /api-keys/{keyId}/rotate',
      caller: 'tenant admin',
      expect: 'write',
      request: (ids) => ({ method: 'POST', path: `/api-keys/${need(ids, 'apiKeyId')}/rotate` }),
    },
    {
      route: 'DELETE /api-keys/{keyId}',
      caller: 'tenant admin',
      expect: 'write',
      request: (ids) => ({ method: 'DELETE', path: `/api-keys/${need(ids, 'apiKeyId')}` }),
    },
    {
      route: 'PUT /secrets/{name}',
      variant: 'create',
      caller: 'tenant admin',
      expect: 'write',
      request: () => ({ method: 'PUT', path: `/secrets/${secretName}`, body: { value: 's3cr3t-bench' } }),
    },
    {
      route: 'PUT /secrets/{name}',
      variant: 'replace',
      caller: 'tenant admin',
      expect: 'write',
      request: () => ({ method: 'PUT', path: `/secrets/${secretName}`, body: { value: 's3cr3t-bench-2' } }),
    },
    {
      route: 'GET /secrets',
      caller: 'tenant admin',
      expect: 'read',
      request: () => ({ method: 'GET', path: '/secrets' }),
    },
    {
      route: 'DELETE /secrets/{name}',
      caller: 'tenant admin',
      expect: 'write',
      request: () => ({ method: 'DELETE', path: `/secrets/${secretName}` }),
    },
    {
      route: 'GET /audit',
      caller: 'tenant admin',
      expect: 'read',
      request: () => ({ method: 'GET', path: '/audit' }),
    },
    {
      route: 'GET /audit/verify',
      caller: 'tenant admin',
      expect: 'read',
      request: () => ({ method: 'GET', path: '/audit/verify' }),
    },
    {
      route: 'POST /tenants',
      caller: 'platform admin',
      expect: 'write',
      request: () => ({
        method: 'POST',
        path: '/tenants',
        body: { name: `Bench ${suffix}`, plan: 'free', adminEmail: `bench-admin-${suffix}@example.com` },
      }),
      capture: (body, ids) => {
        ids.tenant = field(body, 'tenantId');
      },
    },
    {
      route: 'GET /tenants',
      caller: 'platform admin',
      expect: 'read',
      request: () => ({ method: 'GET', path: '/tenants' }),
    },
    {
      route: 'GET /tenants/{tenantId}',
      caller: 'platform admin',
      expect: 'read',
      request: (ids) => ({ method: 'GET', path: `/tenants/${need(ids, 'tenant')}` }),
    },
    {
      route: 'PATCH /tenants/{tenantId}',
      variant: 'plan → pro',
      caller: 'platform admin',
      expect: 'write',
      request: (ids) => ({ method: 'PATCH', path: `/tenants/${need(ids, 'tenant')}`, body: { plan: 'pro' } }),
    },
  ];
}

const count = (calls: readonly DynamoCall[], pick: (c: DynamoCall) => boolean): number =>
  calls.filter(pick).length;

/** `GetItem×2, Query×1` */
export function byOperation(calls: readonly DynamoCall[]): string {
  const counts = new Map<string, number>();
  for (const c of calls) counts.set(c.operation, (counts.get(c.operation) ?? 0) + 1);
  return [...counts].map(([op, n]) => `${op}×${n}`).join(', ') || 'none';
}

/** `GetItem(USER)` */
export function describeCall(call: DynamoCall): string {
  return `${call.operation}(${call.detail})`;
}

/** Applies the targets: reads one request; writes one transaction reading only what it writes; no Scan. */
export function judge(
  expect: Expectation,
  calls: readonly DynamoCall[],
): { verdict: 'PASS' | 'MISS'; why: string } {
  const scans = count(calls, (c) => c.operation === 'Scan');
  if (scans > 0) return { verdict: 'MISS', why: `${scans} Scan` };
  const reads = calls.filter((c) => READ_OPERATIONS.has(c.operation));
  const singleWrites = calls.filter((c) => SINGLE_WRITE_OPERATIONS.has(c.operation));
  const transactions = calls.filter((c) => c.operation === 'TransactWriteItems');
  if (expect === 'any') return { verdict: 'PASS', why: '' };
  if (expect === 'read') {
    const problems = [
      ...(reads.length > 1 ? [`${reads.length} read requests: ${reads.map(describeCall).join(', ')}`] : []),
      ...(singleWrites.length + transactions.length > 0
        ? [`writes on a read: ${byOperation([...singleWrites, ...transactions])}`]
        : []),
    ];
    return { verdict: problems.length === 0 ? 'PASS' : 'MISS', why: problems.join('; ') };
  }
  const written = new Set(transactions.flatMap((t) => t.writtenKeys));
  // A read-modify-write of an item the transaction writes is the
  // expected shape; anything else read first is an extra round trip.
  const extra = reads.filter((r) => r.readKeys.length === 0 || r.readKeys.some((k) => !written.has(k)));
  const problems = [
    ...(transactions.length !== 1 ? [`${transactions.length} transactions`] : []),
    ...(singleWrites.length > 0 ? [`writes outside the transaction: ${byOperation(singleWrites)}`] : []),
    ...(extra.length > 0 ? [`reads items it does not write: ${extra.map(describeCall).join(', ')}`] : []),
  ];
  return { verdict: problems.length === 0 ? 'PASS' : 'MISS', why: problems.join('; ') };
}

/** A response: status, parsed JSON body (undefined when not JSON) and raw text. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

/** One HTTP request to the local API, with a 30 s timeout. */
export async function call(
  apiUrl: string,
  request: { method: string; path: string; body?: unknown },
  headers: Record<string, string>,
): Promise<Answer> {
  const response = await fetch(`${apiUrl}${request.path}`, {
    method: request.method,
    headers: {
      ...headers,
      'user-agent': 'meridian-bench',
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

/** Measures every step on the running platform (see bench/local-session.ts for the instrumentation). */
export async function measureCapacity(bench: BenchPlatform): Promise<CapacityResults> {
  const { apiUrl, recorder, declaredRoutes: declared } = bench;
  const headersOf: Record<Caller, Record<string, string>> = {
    'tenant admin': bench.headers.tenantAdmin,
    'platform admin': bench.headers.platformAdmin,
    public: {},
  };

  const split = (calls: DynamoCall[]) => ({
    route: calls.filter((c) => c.phase !== 'authorizer'),
    authorizer: calls.filter((c) => c.phase === 'authorizer'),
  });
  const measure = async (
    request: { method: string; path: string; body?: unknown },
    headers: Record<string, string>,
  ): Promise<{ answer: Answer; route: DynamoCall[]; authorizer: DynamoCall[] }> => {
    recorder.take();
    const answer = await call(apiUrl, request, headers);
    await recorder.settle();
    return { answer, ...split(recorder.take()) };
  };

  // First and second request of each bearer credential: the authorizer's cold and warm cost.
  const authorizer: AuthorizerCost[] = [];
  for (const caller of ['tenant admin', 'platform admin'] as const) {
    const cold = await measure({ method: 'GET', path: '/me' }, headersOf[caller]);
    const warm = await measure({ method: 'GET', path: '/me' }, headersOf[caller]);
    if (cold.answer.status !== 200) throw new Error(`GET /me as ${caller}: ${cold.answer.text}`);
    authorizer.push({ credential: `${caller} (bearer)`, cold: cold.authorizer, warm: warm.authorizer });
  }
  if (authorizer[0]?.cold.length === 0) {
    throw new Error('The authorizer made no DynamoDB request on a cold token: the recorder is not attached');
  }

  const ids: Ids = {};
  const results: RouteResult[] = [];
  for (const step of steps(randomBytes(4).toString('hex'))) {
    let request: { method: string; path: string; body?: unknown };
    try {
      request = step.request(ids);
    } catch (error) {
      results.push({
        route: step.route,
        ...(step.variant ? { variant: step.variant } : {}),
        caller: step.caller,
        status: 0,
        expect: step.expect,
        calls: [],
        authorizerCalls: [],
        verdict: 'ERROR',
        why: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    const { answer, route, authorizer: authCalls } = await measure(request, headersOf[step.caller]);
    const ok = answer.status >= 200 && answer.status < 300;
    if (ok) step.capture?.(answer.body, ids);
    const judged = ok
      ? judge(step.expect, route)
      : { verdict: 'ERROR' as const, why: `HTTP ${answer.status}: ${answer.text.slice(0, 160)}` };
    results.push({
      route: step.route,
      ...(step.variant ? { variant: step.variant } : {}),
      caller: step.caller,
      status: answer.status,
      expect: step.expect,
      calls: route,
      authorizerCalls: authCalls,
      ...judged,
    });

    // The API key's authorizer cost, as soon as there is a key.
    if (step.route === 'POST /api-keys' && ids.apiKey !== undefined) {
      const headers = { 'x-api-key': ids.apiKey };
      const cold = await measure({ method: 'GET', path: '/me' }, headers);
      const warm = await measure({ method: 'GET', path: '/me' }, headers);
      if (cold.answer.status !== 200) throw new Error(`GET /me with the API key: ${cold.answer.text}`);
      authorizer.push({ credential: 'API key (X-Api-Key)', cold: cold.authorizer, warm: warm.authorizer });
    }
  }

  const exercised = new Set(results.map((r) => r.route));
  return {
    routes: results,
    authorizer,
    notExercised: declared.filter((r) => !exercised.has(r)).sort(),
    uncounted: Object.fromEntries(recorder.uncounted),
    startMs: bench.startMs,
  };
}
