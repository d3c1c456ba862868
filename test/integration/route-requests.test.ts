/**
 * DynamoDB requests per route (was section 4 of bench/RESULTS.md). Target: a read makes 1 read
 * request; a write makes one `TransactWriteItems`, no other write, and reads only items that
 * transaction writes; no Scan anywhere; a warm authorizer makes none. The table holds today's exact
 * request counts per route, so any added request fails here; the routes in OVER_BUDGET take more
 * than the target today and say why.
 *
 * The platform runs in this worker (not the project's child process) so a middleware on the handlers'
 * document client (functions/adapters/aws-clients.ts) can record every request.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordLogin } from '../../bin/local/auth.ts';
import { type LocalPlatform, startLocalPlatform } from '../../bin/local/platform.ts';
import {
  type DynamoCall,
  DynamoRecorder,
  describeCall,
  READS,
  readKeys,
  writtenItems,
} from '../helpers/dynamo-recorder.ts';

type Caller = 'tenant admin' | 'platform admin' | 'public';
type Ids = Record<string, string>;
interface Step {
  readonly route: string;
  readonly caller: Caller;
  readonly expect: 'read' | 'write' | 'any';
  /** Today's requests by operation, e.g. `GetItem×1, TransactWriteItems×1`. */
  readonly counts: string;
  readonly request: (ids: Ids) => { method: string; path: string; body?: unknown };
  readonly capture?: (body: Record<string, string>, ids: Ids) => void;
}

/** Routes that take more than the target today, and why. */
const OVER_BUDGET: Readonly<Record<string, string>> = {
  'PUT /roles/{name}': 'reads items it does not write: Query(table USER#)',
  'POST /users (roles viewer + the custom role)': 'reads items it does not write: BatchGetItem(ROLE)',
  'PATCH /users/{userId} (roles → developer)': 'reads items it does not write: BatchGetItem(ROLE)',
  'DELETE /roles/{name}': 'reads items it does not write: Query(table USER#)',
  'GET /teams/{teamId}': '2 read requests: GetItem(TEAM), Query(table USER#)',
  'PATCH /teams/{teamId} (description)': 'reads items it does not write: Query(table USER#)',
  'DELETE /teams/{teamId}': 'reads items it does not write: Query(table USER#)',
  'DELETE /users/{userId}': 'reads items it does not write: Query(table APIKEY#)',
};

const tx = 'TransactWriteItems×1';
const month = (): string => new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();
const need = (ids: Ids, name: string): string => {
  const value = ids[name];
  if (value === undefined) throw new Error(`No ${name}: the step that creates it failed`);
  return value;
};

function steps(s: string): Step[] {
  const get = (path: string) => () => ({ method: 'GET', path });
  const role = (ids: Ids) => `/roles/${need(ids, 'role')}`;
  const user = (ids: Ids) => `/users/${need(ids, 'user')}`;
  const team = (ids: Ids) => `/teams/${need(ids, 'team')}`;
  const key = (ids: Ids) => `/api-keys/${need(ids, 'keyId')}`;
  const tenant = (ids: Ids) => `/tenants/${need(ids, 'tenant')}`;
  const T: Caller = 'tenant admin';
  const P: Caller = 'platform admin';

  return [
    { route: 'GET /health', caller: 'public', expect: 'any', counts: 'none', request: get('/health') },
    {
      route: 'GET /health/ready',
      caller: 'public',
      expect: 'any',
      counts: 'GetItem×1',
      request: get('/health/ready'),
    },
    { route: 'GET /me', caller: T, expect: 'read', counts: 'GetItem×1', request: get('/me') },
    {
      route: 'POST /roles',
      caller: T,
      expect: 'write',
      counts: tx,
      request: () => ({
        method: 'POST',
        path: '/roles',
        body: { name: `bench-${s}`, permissions: ['workflows:read'] },
      }),
      capture: (b, ids) => {
        ids.role = b.name ?? '';
      },
    },
    { route: 'GET /roles', caller: T, expect: 'read', counts: 'Query×1', request: get('/roles') },
    {
      route: 'GET /roles/{name} (custom role)',
      caller: T,
      expect: 'read',
      counts: 'GetItem×1',
      request: (ids) => ({ method: 'GET', path: role(ids) }),
    },
    {
      route: 'PUT /roles/{name}',
      caller: T,
      expect: 'write',
      counts: `GetItem×1, Query×1, ${tx}`,
      request: (ids) => ({
        method: 'PUT',
        path: role(ids),
        body: { permissions: ['workflows:read', 'agents:read'] },
      }),
    },
    {
      route: 'POST /users (roles viewer + the custom role)',
      caller: T,
      expect: 'write',
      counts: `BatchGetItem×1, ${tx}`,
      request: (ids) => ({
        method: 'POST',
        path: '/users',
        body: { email: `bench-${s}@example.com`, roles: ['viewer', need(ids, 'role')] },
      }),
      capture: (b, ids) => {
        ids.user = b.userId ?? '';
      },
    },
    { route: 'GET /users', caller: T, expect: 'read', counts: 'Query×1', request: get('/users') },
    {
      route: 'GET /users/{userId}',
      caller: T,
      expect: 'read',
      counts: 'GetItem×1',
      request: (ids) => ({ method: 'GET', path: user(ids) }),
    },
    {
      route: 'PATCH /users/{userId} (roles → developer)',
      caller: T,
      expect: 'write',
      counts: `BatchGetItem×1, GetItem×1, ${tx}`,
      request: (ids) => ({ method: 'PATCH', path: user(ids), body: { roles: ['developer'] } }),
    },
    {
      route: 'DELETE /roles/{name}',
      caller: T,
      expect: 'write',
      counts: `GetItem×1, Query×1, ${tx}`,
      request: (ids) => ({ method: 'DELETE', path: role(ids) }),
    },
    {
      route: 'POST /teams (one member)',
      caller: T,
      expect: 'write',
      counts: `GetItem×1, ${tx}`,
      request: (ids) => ({
        method: 'POST',
        path: '/teams',
        body: { name: `Bench ${s}`, members: [need(ids, 'user')] },
      }),
      capture: (b, ids) => {
        ids.team = b.teamId ?? '';
      },
    },
    { route: 'GET /teams', caller: T, expect: 'read', counts: 'Query×1', request: get('/teams') },
    {
      route: 'GET /teams/{teamId}',
      caller: T,
      expect: 'read',
      counts: 'GetItem×1, Query×1',
      request: (ids) => ({ method: 'GET', path: team(ids) }),
    },
    {
      route: 'PATCH /teams/{teamId} (description)',
      caller: T,
      expect: 'write',
      counts: `GetItem×1, Query×1, ${tx}`,
      request: (ids) => ({ method: 'PATCH', path: team(ids), body: { description: 'benchmark team' } }),
    },
    {
      route: 'DELETE /teams/{teamId}',
      caller: T,
      expect: 'write',
      counts: `GetItem×1, Query×1, ${tx}`,
      request: (ids) => ({ method: 'DELETE', path: team(ids) }),
    },
    {
      route: 'DELETE /users/{userId}',
      caller: T,
      expect: 'write',
      counts: `GetItem×1, Query×1, ${tx}`,
      request: (ids) => ({ method: 'DELETE', path: user(ids) }),
    },
    {
      route: 'POST /api-keys',
      caller: T,
      expect: 'write',
      counts: tx,
      request: () => ({
        method: 'POST',
        path: '/api-keys',
        body: { name: `bench ${s}`, scopes: ['audit:read'], expiresAt: month() },
      }),
      capture: (b, ids) => {
        ids.keyId = b.keyId ?? '';
        ids.apiKey = b.key ?? '';
      },
    },
    { route: 'GET /api-keys', caller: T, expect: 'read', counts: 'Query×1', request: get('/api-keys') },
    {
      route: 'POST /api-keys/{keyId}/rotate',
      caller: T,
      expect: 'write',
      counts: `GetItem×1, ${tx}`,
      request: (ids) => ({ method: 'POST', path: `${key(ids)}/rotate` }),
    },
    {
      route: 'DELETE /api-keys/{keyId}',
      caller: T,
      expect: 'write',
      counts: `GetItem×1, ${tx}`,
      request: (ids) => ({ method: 'DELETE', path: key(ids) }),
    },
    {
      route: 'PUT /secrets/{name} (create)',
      caller: T,
      expect: 'write',
      counts: `GetItem×1, ${tx}`,
      request: () => ({ method: 'PUT', path: `/secrets/bench-${s}`, body: { value: 's3cr3t-bench' } }),
    },
    {
      route: 'PUT /secrets/{name} (replace)',
      caller: T,
      expect: 'write',
      counts: `GetItem×1, ${tx}`,
      request: () => ({ method: 'PUT', path: `/secrets/bench-${s}`, body: { value: 's3cr3t-bench-2' } }),
    },
    { route: 'GET /secrets', caller: T, expect: 'read', counts: 'Query×1', request: get('/secrets') },
    {
      route: 'DELETE /secrets/{name}',
      caller: T,
      expect: 'write',
      counts: `GetItem×1, ${tx}`,
      request: () => ({ method: 'DELETE', path: `/secrets/bench-${s}` }),
    },
    { route: 'GET /audit', caller: T, expect: 'read', counts: 'Query×1', request: get('/audit') },
    {
      route: 'GET /audit/verify',
      caller: T,
      expect: 'read',
      counts: 'Query×1',
      request: get('/audit/verify'),
    },
    {
      route: 'POST /tenants',
      caller: P,
      expect: 'write',
      counts: tx,
      request: () => ({
        method: 'POST',
        path: '/tenants',
        body: { name: `Bench ${s}`, plan: 'free', adminEmail: `bench-admin-${s}@example.com` },
      }),
      capture: (b, ids) => {
        ids.tenant = b.tenantId ?? '';
      },
    },
    { route: 'GET /tenants', caller: P, expect: 'read', counts: 'Query×1', request: get('/tenants') },
    {
      route: 'GET /tenants/{tenantId}',
      caller: P,
      expect: 'read',
      counts: 'GetItem×1',
      request: (ids) => ({ method: 'GET', path: tenant(ids) }),
    },
    {
      route: 'PATCH /tenants/{tenantId} (plan → pro)',
      caller: P,
      expect: 'write',
      counts: `GetItem×1, ${tx}`,
      request: (ids) => ({ method: 'PATCH', path: tenant(ids), body: { plan: 'pro' } }),
    },
  ];
}

/** `GetItem×1, Query×1`, operations sorted by name. */
function counts(calls: readonly DynamoCall[]): string {
  const n = new Map<string, number>();
  for (const c of calls) n.set(c.operation, (n.get(c.operation) ?? 0) + 1);
  return (
    [...n]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([op, k]) => `${op}×${k}`)
      .join(', ') || 'none'
  );
}

/** Why a route misses the target, or '' when it meets it. */
function overBudget(expect: Step['expect'], calls: readonly DynamoCall[]): string {
  const reads = calls.filter((c) => READS.has(c.operation));
  const transactions = calls.filter((c) => c.operation === 'TransactWriteItems');
  const single = calls.filter((c) => !READS.has(c.operation) && c.operation !== 'TransactWriteItems');
  if (expect === 'any') return '';
  if (expect === 'read') {
    if (reads.length > 1) return `${reads.length} read requests: ${reads.map(describeCall).join(', ')}`;
    return single.length + transactions.length > 0 ? 'writes on a read' : '';
  }
  const written = new Set(transactions.flatMap((t) => writtenItems(t).map((w) => w.key)));
  // A read-modify-write of an item the transaction writes is the expected shape.
  const extra = reads.filter((r) => readKeys(r).length === 0 || readKeys(r).some((k) => !written.has(k)));
  return [
    ...(transactions.length !== 1 ? [`${transactions.length} transactions`] : []),
    ...(single.length > 0 ? [`writes outside the transaction: ${counts(single)}`] : []),
    ...(extra.length > 0 ? [`reads items it does not write: ${extra.map(describeCall).join(', ')}`] : []),
  ].join('; ');
}

const recorder = new DynamoRecorder();
let platform: LocalPlatform;
let stateDir: string;
const headers: Record<Caller, Record<string, string>> = {
  'tenant admin': {},
  'platform admin': {},
  public: {},
};
const all: DynamoCall[] = [];
/** The rate limiter's leases (one per slot, whichever request opens it) are not the route's. */
const isLease = (c: DynamoCall) => c.operation === 'UpdateItem' && describeCall(c).includes('RATE');

async function send(request: { method: string; path: string; body?: unknown }, h: Record<string, string>) {
  recorder.take();
  const response = await fetch(`${platform.apiUrl}${request.path}`, {
    method: request.method,
    headers: { ...h, ...(request.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  });
  const text = await response.text();
  await recorder.settle();
  const calls = recorder.take().filter((c) => !isLease(c));
  all.push(...calls);
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, string>, calls };
}

beforeAll(async () => {
  // Long enough that no credential expires from the authorizer's cache during the file.
  process.env.AUTH_CACHE_TTL_SECONDS = '300';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  stateDir = await mkdtemp(join(tmpdir(), 'meridian-it-requests-'));
  platform = await startLocalPlatform({
    stateDir,
    port: 0,
    dynamoPort: 0,
    s3Port: 0,
    cognitoPort: 0,
    idpPort: 0,
    quiet: true,
  });
  const { dynamoDocumentClient } = await import('#adapters/aws-clients.ts');
  recorder.attach(dynamoDocumentClient());
  const { demo } = platform;
  const admin = demo.users.find((u) => u.roles.includes('admin'));
  if (!admin) throw new Error('demo.json has no tenant admin');
  const [a, p] = await Promise.all([
    passwordLogin(demo.cognito, admin.username, admin.password),
    passwordLogin(demo.cognito, demo.platformAdmin.username, demo.platformAdmin.password),
  ]);
  headers['tenant admin'] = { authorization: `Bearer ${a.accessToken}` };
  headers['platform admin'] = { authorization: `Bearer ${p.accessToken}` };
}, 240_000);

afterAll(async () => {
  await platform?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe('DynamoDB requests per route', () => {
  it('a warm authorizer makes no request: a second GET /me costs only what the route reads', async () => {
    // The platform admin has no profile item: its GET /me reads nothing.
    for (const [caller, route] of [
      ['tenant admin', ['GetItem(PROFILE)']],
      ['platform admin', []],
    ] as const) {
      const cold = await send({ method: 'GET', path: '/me' }, headers[caller]);
      const warm = await send({ method: 'GET', path: '/me' }, headers[caller]);
      expect(cold.status).toBe(200);
      expect(warm.calls.map(describeCall)).toEqual(route);
    }
  });

  it('each route makes today’s requests; only the routes of OVER_BUDGET miss the target; no Scan', async () => {
    const ids: Ids = {};
    const measured: { route: string; counts: string; why: string }[] = [];
    for (const step of steps(randomBytes(4).toString('hex'))) {
      const answer = await send(step.request(ids), headers[step.caller]);
      expect(answer.status, `${step.route}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
      step.capture?.(answer.body, ids);
      measured.push({
        route: step.route,
        counts: counts(answer.calls),
        why: overBudget(step.expect, answer.calls),
      });
      if (step.route === 'POST /api-keys') {
        // The API key's warm authorizer: its second request costs only the route's GetItem.
        await send({ method: 'GET', path: '/me' }, { 'x-api-key': need(ids, 'apiKey') });
        const warm = await send({ method: 'GET', path: '/me' }, { 'x-api-key': need(ids, 'apiKey') });
        expect(warm.calls.map(describeCall)).toEqual(['GetItem(PROFILE)']);
      }
    }
    const sorted = (text: string) => text.split(', ').sort().join(', ');
    expect(measured).toEqual(
      steps('x').map((s) => ({ route: s.route, counts: sorted(s.counts), why: OVER_BUDGET[s.route] ?? '' })),
    );
    expect(all.filter((c) => c.operation === 'Scan').map(describeCall)).toEqual([]);
  });
});
