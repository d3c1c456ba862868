import type { Permission } from '../../functions/core/access/permissions.ts';
import type { HttpMethod } from '../../functions/shared/router.ts';
import { call } from '../helpers/api.ts';
import { uniqueEmail, uniqueName } from '../helpers/tenants.ts';

/**
 * THE ACCESS MATRIX: one row per authenticated route of the API, read by isolation.test.ts, whose
 * guard test fails when `/openapi.json` lists a route that has no row here. Adding a route means
 * adding one object to {@link ROUTES}:
 *
 * ```ts
 * {
 *   method: 'GET',
 *   path: '/agents/{agentId}',            // exactly as /openapi.json spells it
 *   permission: 'agents:read',
 *   setup: (owner) => created(owner, '/agents', { ...agentBody, name: uniqueName('agent') }, 'agentId'),
 * },
 * ```
 *
 * `setup` makes a fresh resource in the owner's tenant and returns its concrete path; the tests call
 * it for another tenant (whose admin must get 404 and leave it unchanged) and for the caller's own
 * tenant (where the admin must succeed, so a 404 proves isolation rather than a broken route).
 */

/** Who may call a route: one tenant permission, any tenant principal, any authenticated caller, or platform operators. */
export type MatrixAuth = Permission | 'tenant' | 'any' | 'platform';

/** The tenant a setup creates its resource in (and who reads it back). */
export interface Owner {
  readonly tenantId: string;
  /** Access token of the tenant's admin. */
  token(): Promise<string>;
  /** Access token of the platform operator. */
  platformToken(): Promise<string>;
}

/** A resource made by a row's setup. */
export interface Target {
  /** Concrete path to call, e.g. `/users/1b2c...` (for list routes: the list itself). */
  readonly path: string;
  /** Reads the resource as its owner; compared before and after another tenant's attempt. */
  readonly snapshot?: () => Promise<unknown>;
  /** The resource's id: must never appear in another tenant's successful answer. */
  readonly marker?: string;
}

/** One route of the matrix. */
export interface RouteRow {
  readonly method: HttpMethod;
  /** The path as `/openapi.json` lists it, with `{param}` placeholders. */
  readonly path: string;
  readonly permission: MatrixAuth;
  /** A valid body (a function for bodies that must be unique per call). */
  readonly body?: unknown | (() => unknown);
  /** Creates the resource in `owner`'s tenant; required for paths with parameters. */
  readonly setup?: (owner: Owner) => Promise<Target>;
  /**
   * Status another tenant's admin gets on the owner's target. Default: 404 for paths with
   * parameters, 200 for lists (which must then not show the owner's resource).
   */
  readonly foreignStatus?: number;
}

/** The body of a row for one call. */
export function bodyOf(row: RouteRow): unknown {
  return typeof row.body === 'function' ? (row.body as () => unknown)() : row.body;
}

async function must<T>(
  what: string,
  response: Promise<{ status: number; text: string; body: T }>,
  status: number,
): Promise<T> {
  const answer = await response;
  if (answer.status !== status) {
    throw new Error(`setup: ${what} answered ${answer.status} ${answer.text.slice(0, 300)}`);
  }
  return answer.body;
}

/** Reads `path` as the owner's admin; the body is the snapshot. */
export function readAs(owner: Owner, path: string): () => Promise<unknown> {
  return async () => must(`GET ${path}`, call('GET', path, { token: await owner.token() }), 200);
}

/** Reads one item of a list (`?limit=100`) by its id field, for resources without a GET of their own. */
export function readFromList(
  owner: Owner,
  list: string,
  idField: string,
  id: string,
): () => Promise<unknown> {
  return async () => {
    const page = await must<{ items: Record<string, unknown>[] }>(
      `GET ${list}`,
      call('GET', `${list}?limit=100`, { token: await owner.token() }),
      200,
    );
    return page.items.find((item) => item[idField] === id) ?? null;
  };
}

/** POSTs `body` to `collection` as the owner's admin; the target is `<collection>/<id>`. */
export async function created(
  owner: Owner,
  collection: string,
  body: unknown,
  idField: string,
): Promise<Target & { id: string }> {
  const made = await must<Record<string, unknown>>(
    `POST ${collection}`,
    call('POST', collection, { token: await owner.token(), body }),
    201,
  );
  const id = String(made[idField]);
  const path = `${collection}/${encodeURIComponent(id)}`;
  return { id, path, snapshot: readAs(owner, path), marker: id };
}

const user = (owner: Owner) =>
  created(owner, '/users', { email: uniqueEmail('matrix'), roles: ['developer'] }, 'userId');
const team = (owner: Owner) => created(owner, '/teams', { name: uniqueName('matrix-team') }, 'teamId');
const role = (owner: Owner) =>
  created(owner, '/roles', { name: uniqueName('mx'), permissions: ['agents:read'] }, 'name');

async function apiKey(owner: Owner): Promise<Target> {
  const made = await must<{ keyId: string }>(
    'POST /api-keys',
    call('POST', '/api-keys', {
      token: await owner.token(),
      body: {
        name: uniqueName('matrix-key'),
        scopes: ['usage:read'],
        expiresAt: new Date(Date.now() + 24 * 3600 * 1000).toISOString(),
      },
    }),
    201,
  );
  return {
    path: `/api-keys/${made.keyId}`,
    snapshot: readFromList(owner, '/api-keys', 'keyId', made.keyId),
    marker: made.keyId,
  };
}

async function secret(owner: Owner): Promise<Target> {
  const name = uniqueName('matrix-secret');
  await must(
    `PUT /secrets/${name}`,
    call('PUT', `/secrets/${name}`, { token: await owner.token(), body: { value: `v-${name}` } }),
    201,
  );
  return { path: `/secrets/${name}`, snapshot: readFromList(owner, '/secrets', 'name', name), marker: name };
}

/** A list route's target: the list, with the owner's fresh resource as the marker. */
const listing =
  (make: (owner: Owner) => Promise<Target>, list: string) =>
  async (owner: Owner): Promise<Target> => {
    const made = await make(owner);
    return { path: `${list}?limit=100`, ...(made.marker ? { marker: made.marker } : {}) };
  };

async function tenant(owner: Owner): Promise<Target> {
  const made = await must<{ tenantId: string }>(
    'POST /tenants',
    call('POST', '/tenants', {
      token: await owner.platformToken(),
      body: { name: uniqueName('matrix-tenant'), plan: 'free', adminEmail: uniqueEmail('matrix-admin') },
    }),
    201,
  );
  const path = `/tenants/${made.tenantId}`;
  return {
    path,
    marker: made.tenantId,
    snapshot: async () => must(`GET ${path}`, call('GET', path, { token: await owner.platformToken() }), 200),
  };
}

/** Every authenticated route of the API. Public routes (health, OpenAPI, webhooks) are not in it. */
export const ROUTES: readonly RouteRow[] = [
  // The caller
  { method: 'GET', path: '/me', permission: 'any' },

  // Tenants: platform operators only
  {
    method: 'POST',
    path: '/tenants',
    permission: 'platform',
    body: () => ({
      name: uniqueName('matrix-tenant'),
      plan: 'free',
      adminEmail: uniqueEmail('matrix-admin'),
    }),
  },
  { method: 'GET', path: '/tenants', permission: 'platform' },
  { method: 'GET', path: '/tenants/{tenantId}', permission: 'platform', setup: tenant },
  {
    method: 'PATCH',
    path: '/tenants/{tenantId}',
    permission: 'platform',
    body: { plan: 'enterprise' },
    setup: tenant,
  },

  // Users
  { method: 'GET', path: '/users', permission: 'users:manage', setup: listing(user, '/users') },
  {
    method: 'POST',
    path: '/users',
    permission: 'users:manage',
    body: () => ({ email: uniqueEmail('matrix'), roles: ['viewer'] }),
  },
  { method: 'GET', path: '/users/{userId}', permission: 'users:manage', setup: user },
  {
    method: 'PATCH',
    path: '/users/{userId}',
    permission: 'users:manage',
    body: { roles: ['viewer'], status: 'disabled' },
    setup: user,
  },
  { method: 'DELETE', path: '/users/{userId}', permission: 'users:manage', setup: user },

  // Teams
  { method: 'GET', path: '/teams', permission: 'users:manage', setup: listing(team, '/teams') },
  { method: 'POST', path: '/teams', permission: 'users:manage', body: () => ({ name: uniqueName('team') }) },
  { method: 'GET', path: '/teams/{teamId}', permission: 'users:manage', setup: team },
  {
    method: 'PATCH',
    path: '/teams/{teamId}',
    permission: 'users:manage',
    body: () => ({ name: uniqueName('renamed') }),
    setup: team,
  },
  { method: 'DELETE', path: '/teams/{teamId}', permission: 'users:manage', setup: team },

  // Roles
  { method: 'GET', path: '/roles', permission: 'roles:manage', setup: listing(role, '/roles') },
  {
    method: 'POST',
    path: '/roles',
    permission: 'roles:manage',
    body: () => ({ name: uniqueName('mx'), permissions: ['tools:read'] }),
  },
  { method: 'GET', path: '/roles/{name}', permission: 'roles:manage', setup: role },
  {
    method: 'PUT',
    path: '/roles/{name}',
    permission: 'roles:manage',
    body: { permissions: ['agents:read', 'agents:write'] },
    setup: role,
  },
  { method: 'DELETE', path: '/roles/{name}', permission: 'roles:manage', setup: role },

  // API keys
  { method: 'GET', path: '/api-keys', permission: 'apikeys:manage', setup: listing(apiKey, '/api-keys') },
  {
    method: 'POST',
    path: '/api-keys',
    permission: 'apikeys:manage',
    body: () => ({
      name: uniqueName('key'),
      scopes: ['usage:read'],
      expiresAt: new Date(Date.now() + 24 * 3600 * 1000).toISOString(),
    }),
  },
  { method: 'DELETE', path: '/api-keys/{keyId}', permission: 'apikeys:manage', setup: apiKey },
  {
    method: 'POST',
    path: '/api-keys/{keyId}/rotate',
    permission: 'apikeys:manage',
    body: { gracePeriodSeconds: 60 },
    setup: async (owner) => {
      const key = await apiKey(owner);
      return { ...key, path: `${key.path}/rotate` };
    },
  },

  // Secrets: names are per tenant, so another tenant's PUT makes its own secret (201), never touches the owner's
  { method: 'GET', path: '/secrets', permission: 'secrets:write', setup: listing(secret, '/secrets') },
  {
    method: 'PUT',
    path: '/secrets/{name}',
    permission: 'secrets:write',
    body: { value: 'matrix-replacement-value' },
    setup: secret,
    foreignStatus: 201,
  },
  { method: 'DELETE', path: '/secrets/{name}', permission: 'secrets:write', setup: secret },

  // Audit
  { method: 'GET', path: '/audit', permission: 'audit:read', setup: listing(role, '/audit') },
  { method: 'GET', path: '/audit/verify', permission: 'audit:read' },
];

/** Routes that need no credential; the guard test does not expect rows for them. */
export const PUBLIC_ROUTES: readonly string[] = [
  'GET /health',
  'GET /health/ready',
  'GET /openapi.json',
  'POST /hooks/{webhookId}',
];
