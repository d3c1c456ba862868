import type { Permission } from '#core/access/permissions.ts';
import { PUBLIC_ROUTE_KEYS } from '#shared/public-routes.ts';
import type { HttpMethod } from '#shared/router.ts';
import { call } from '../helpers/api.ts';
import { publishTxt } from '../helpers/dns-zone.ts';
import { eventually, inviteUser, uniqueEmail, uniqueName } from '../helpers/tenants.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

import {
  approvalOf,
  approvalWorkflowBody,
  builtinToolBody,
  scriptedAgentBody,
  startExecution,
  succeedWorkflowBody,
  waitForApprovalStep,
  waitForStatus,
} from '../helpers/workflows.ts';

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

/** A fresh tenant's egress allowlist (platform routes), snapshotted by the platform operator. */
async function tenantEgress(owner: Owner): Promise<Target> {
  const made = await tenant(owner);
  const path = `${made.path}/egress`;
  return {
    path,
    ...(made.marker ? { marker: made.marker } : {}),
    snapshot: async () => must(`GET ${path}`, call('GET', path, { token: await owner.platformToken() }), 200),
  };
}

// Agents, tools, workflows, approvals and executions

const agentBody = () => scriptedAgentBody([{ reply: 'matrix reply' }], 'matrix-agent');
const toolBody = () => builtinToolBody('echo', 'matrix-tool');
const workflowBody = () => succeedWorkflowBody('matrix-workflow');

const agent = (owner: Owner) => created(owner, '/agents', agentBody(), 'agentId');
const tool = (owner: Owner) => created(owner, '/tools', toolBody(), 'toolId');
const workflow = (owner: Owner) => created(owner, '/workflows', workflowBody(), 'workflowId');

/** A definition with two versions (so its version list has a second page at `limit=1`), at `<path>/<suffix>`. */
function versioned(
  make: (owner: Owner) => Promise<Target & { id: string }>,
  body: () => unknown,
  suffix: string,
) {
  return async (owner: Owner): Promise<Target> => {
    const made = await make(owner);
    await must(`PUT ${made.path}`, call('PUT', made.path, { token: await owner.token(), body: body() }), 200);
    const path = `${made.path}/${suffix}`;
    return { path, snapshot: readAs(owner, path), marker: made.id };
  };
}

/** A workflow with version 1 promoted to dev. */
async function deployed(owner: Owner, body: unknown = workflowBody()): Promise<Target & { id: string }> {
  const made = await created(owner, '/workflows', body, 'workflowId');
  await must(
    `POST ${made.path}/promotions`,
    call('POST', `${made.path}/promotions`, {
      token: await owner.token(),
      body: { version: 1, environment: 'dev' },
    }),
    200,
  );
  return made;
}

// Per tenant: a deployed workflow ending at once, one waiting for an approval, and an API key that
// starts executions, so the tenant's admin is never the requester of the approvals it decides.
const shared = new Map<string, Promise<string>>();
function once(owner: Owner, what: string, make: () => Promise<string>): Promise<string> {
  const key = `${owner.tenantId}|${what}`;
  let made = shared.get(key);
  if (!made) {
    made = make();
    made.catch(() => shared.delete(key));
    shared.set(key, made);
  }
  return made;
}
const quickWorkflow = (owner: Owner) => once(owner, 'quick', async () => (await deployed(owner)).id);
const approvalWorkflow = (owner: Owner) =>
  once(
    owner,
    'approval',
    async () => (await deployed(owner, approvalWorkflowBody({}, 'matrix-approval'))).id,
  );
/**
 * An API key of another user of the owner's tenant (not the admin): requests made with it are that
 * user's, so the owner's admin may decide them (nobody decides their own, directly or via a key).
 */
const starterKey = (owner: Owner) =>
  once(owner, 'starter', async () => {
    const adminToken = await owner.token();
    const role = `starter-${uniqueName('r')
      .replace(/[^a-z0-9-]/g, '')
      .slice(-24)}`;
    const permissions = [
      'executions:start',
      'executions:read',
      'approvals:decide',
      'workflows:promote',
      'apikeys:manage',
    ];
    await must(
      'POST /roles',
      call('POST', '/roles', { token: adminToken, body: { name: role, permissions } }),
      201,
    );
    const starter = await inviteUser(adminToken, uniqueEmail('starter'), [role]);
    const made = await must<{ key: string }>(
      'POST /api-keys',
      call('POST', '/api-keys', {
        token: await starter.token(),
        body: {
          name: uniqueName('matrix-starter'),
          scopes: permissions.filter((p) => p !== 'apikeys:manage'),
          expiresAt: new Date(Date.now() + 24 * 3600 * 1000).toISOString(),
        },
      }),
      201,
    );
    return made.key;
  });

/** A webhook of the tenant's quick workflow; another tenant's DELETE must leave it working. */
async function webhook(owner: Owner): Promise<Target> {
  const workflowId = await quickWorkflow(owner);
  const made = await must<{ webhookId: string }>(
    'POST webhooks',
    call('POST', `/workflows/${workflowId}/webhooks`, { token: await owner.token(), body: {} }),
    201,
  );
  return { path: `/webhooks/${made.webhookId}`, marker: made.webhookId };
}

/**
 * A yearly schedule (it never fires during the run) of a new workflow of the tenant: a workflow may
 * have only 10 schedules, and the matrix makes more than that.
 */
async function scheduled(owner: Owner): Promise<{ workflowId: string; scheduleId: string }> {
  const workflowId = (await workflow(owner)).id;
  const made = await must<{ scheduleId: string }>(
    'POST schedules',
    call('POST', `/workflows/${workflowId}/schedules`, {
      token: await owner.token(),
      body: { cron: '0 0 1 1 *', environment: 'dev' },
    }),
    201,
  );
  return { workflowId, scheduleId: made.scheduleId };
}

/** A schedule; another tenant's DELETE must leave it listed. */
async function schedule(owner: Owner): Promise<Target> {
  const { workflowId, scheduleId } = await scheduled(owner);
  return {
    path: `/schedules/${scheduleId}`,
    snapshot: readFromList(owner, `/workflows/${workflowId}/schedules`, 'scheduleId', scheduleId),
    marker: scheduleId,
  };
}

/** The tenant's budget (set to a recognisable limit), read back by its owner for the unchanged check. */
async function budget(owner: Owner): Promise<Target> {
  await must(
    'PUT /budget',
    call('PUT', '/budget', {
      token: await owner.token(),
      body: { monthlyLimitUsd: '777.77', alertThresholds: [50] },
    }),
    200,
  );
  return { path: '/budget', snapshot: readAs(owner, '/budget') };
}

/** A valid identity-provider registration; each claims a fresh email domain. */
const identityProviderBody = () => ({
  type: 'oidc',
  name: uniqueName('mx-idp'),
  issuer: 'https://idp.example.com',
  clientId: 'matrix-client',
  clientSecret: 'matrix-secret',
  emailDomains: [`${uniqueName('mx')}.example.com`],
  groupMapping: [{ group: 'eng', roles: ['developer'] }],
});

/**
 * Creating and deleting providers counts against the tenant's 120 a minute (12 per 6-second slot),
 * which the identity rows' setups, all in the same two tenants, can reach: such a call waits for
 * the Retry-After and is sent again.
 */
async function paced(send: () => ReturnType<typeof call<Record<string, unknown>>>) {
  for (let attempt = 0; ; attempt++) {
    const answer = await send();
    if (answer.status !== 429 || attempt === 3) return answer;
    await sleep(1000 * Number(answer.headers.get('retry-after') ?? 1));
  }
}

/**
 * A fresh provider. A tenant holds at most 10 and every identity row makes some in the same two
 * tenants, so the oldest go first once there are 9 (rows run one after another and use theirs at once).
 */
async function identityProvider(owner: Owner): Promise<Target & { id: string }> {
  const token = await owner.token();
  const listed = await must<{ items: { providerId: string; createdAt: string }[] }>(
    'GET /identity-providers',
    call('GET', '/identity-providers?limit=100', { token }),
    200,
  );
  const oldest = [...listed.items].sort((x, y) => x.createdAt.localeCompare(y.createdAt));
  for (const old of oldest.slice(0, Math.max(0, oldest.length - 8))) {
    const path = `/identity-providers/${old.providerId}`;
    await must(
      `DELETE ${path}`,
      paced(() => call('DELETE', path, { token })),
      204,
    );
  }
  const made = await must<Record<string, unknown>>(
    'POST /identity-providers',
    paced(() => call('POST', '/identity-providers', { token, body: identityProviderBody() })),
    201,
  );
  const id = String(made.providerId);
  const path = `/identity-providers/${id}`;
  return { id, path, snapshot: readAs(owner, path), marker: id };
}

/** A provider whose domain published its verification record: the owner's verify call succeeds. */
async function providerDomain(owner: Owner): Promise<Target> {
  const made = await identityProvider(owner);
  const provider = await must<{ domains: { domain: string; record: { name: string; value: string } }[] }>(
    `GET ${made.path}`,
    call('GET', made.path, { token: await owner.token() }),
    200,
  );
  const [entry] = provider.domains;
  if (!entry) throw new Error('The matrix provider has no domain');
  await publishTxt(entry.record.name, entry.record.value);
  return { ...made, path: `${made.path}/domains/${entry.domain}/verify` };
}

/** The tenant's SSO settings (not required), read back by its owner for the unchanged check. */
async function ssoSettings(owner: Owner): Promise<Target> {
  await must(
    'PUT /sso',
    call('PUT', '/sso', { token: await owner.token(), body: { requireSso: false } }),
    200,
  );
  return { path: '/sso', snapshot: readAs(owner, '/sso') };
}

/** A fresh tenant whose offboarding began (platform routes), snapshotted by the platform operator. */
async function offboardedTenant(owner: Owner): Promise<Target> {
  const made = await tenant(owner);
  await must(`DELETE ${made.path}`, call('DELETE', made.path, { token: await owner.platformToken() }), 202);
  const path = `${made.path}/offboarding`;
  return { path, ...(made.marker ? { marker: made.marker } : {}) };
}

/** An export of the tenant's data. */
async function tenantExport(owner: Owner): Promise<Target> {
  const made = await must<{ exportId: string }>(
    'POST /tenant/exports',
    call('POST', '/tenant/exports', { token: await owner.token() }),
    202,
  );
  return { path: `/tenant/exports/${made.exportId}`, marker: made.exportId };
}

/** The tenant's retention (set to a recognisable value), read back by its owner. */
async function retention(owner: Owner): Promise<Target> {
  await must(
    'PUT /tenant/retention',
    call('PUT', '/tenant/retention', { token: await owner.token(), body: { executionRetentionDays: 77 } }),
    200,
  );
  return { path: '/tenant/retention', snapshot: readAs(owner, '/tenant/retention') };
}

/** A user of the tenant to erase, snapshotted by its owner. */
async function erasable(owner: Owner): Promise<Target> {
  const made = await user(owner);
  return { ...made, path: `${made.path}/erasure`, snapshot: readAs(owner, made.path) };
}

/** A finished execution of the tenant's quick workflow. */
async function execution(owner: Owner): Promise<Target> {
  const token = await owner.token();
  const executionId = await startExecution({ token }, await quickWorkflow(owner), { matrix: true });
  await waitForStatus({ token }, executionId, 'SUCCEEDED');
  const path = `/executions/${executionId}`;
  return { path, snapshot: readAs(owner, path), marker: executionId };
}

/** A workflow whose only step is a `fail` step: its executions end FAILED (and fail again when redriven). */
const failingWorkflow = (owner: Owner) =>
  once(owner, 'failing', async () => {
    const body = {
      name: uniqueName('matrix-failing'),
      startAt: 'boom',
      steps: { boom: { type: 'fail', error: 'Matrix.Failed', cause: 'redrive me' } },
    };
    return (await deployed(owner, body)).id;
  });

/** A FAILED execution: what a redrive resumes. */
async function failed(owner: Owner): Promise<Target> {
  const token = await owner.token();
  const executionId = await startExecution({ token }, await failingWorkflow(owner), { matrix: true });
  await waitForStatus({ token }, executionId, 'FAILED');
  const path = `/executions/${executionId}`;
  return { path: `${path}/redrive`, snapshot: readAs(owner, path), marker: executionId };
}

/** An execution started by the tenant's API key, waiting for its approval. */
async function waiting(owner: Owner): Promise<{ executionId: string; approvalId: string }> {
  const token = await owner.token();
  const executionId = await startExecution(
    { apiKey: await starterKey(owner) },
    await approvalWorkflow(owner),
  );
  await waitForApprovalStep({ token }, executionId);
  const approval = await approvalOf({ token }, executionId);
  return { executionId, approvalId: approval.approvalId };
}

/** A pending promotion to prod, requested by the tenant's API key. */
async function promotionRequest(owner: Owner): Promise<Target> {
  const workflowId = await quickWorkflow(owner);
  const made = await must<{ approval: { approvalId: string } }>(
    'POST promotions (prod)',
    call('POST', `/workflows/${workflowId}/promotions`, {
      apiKey: await starterKey(owner),
      body: { version: 1, environment: 'prod' },
    }),
    202,
  );
  const approvalId = made.approval.approvalId;
  return {
    path: `/approvals/${approvalId}/decision`,
    snapshot: readFromList(owner, '/approvals', 'approvalId', approvalId),
    marker: approvalId,
  };
}

/** An email notification channel; another tenant's DELETE must leave it listed. */
async function notificationChannel(owner: Owner): Promise<Target> {
  const made = await must<{ channelId: string }>(
    'POST /notification-channels',
    call('POST', '/notification-channels', {
      token: await owner.token(),
      body: {
        name: uniqueName('matrix-channel'),
        type: 'email',
        events: ['execution.failed'],
        target: uniqueEmail('matrix-notify'),
      },
    }),
    201,
  );
  return {
    path: `/notification-channels/${made.channelId}`,
    snapshot: readFromList(owner, '/notification-channels', 'channelId', made.channelId),
    marker: made.channelId,
  };
}

/** A notification: the email a pending promotion sends the owner's admin (an approver). */
async function notification(owner: Owner): Promise<Target> {
  const approvalId = (await promotionRequest(owner)).marker ?? '';
  const page = await must<{ items: { notificationId: string; data: { approvalId?: string } }[] }>(
    'GET /notifications',
    call('GET', '/notifications?limit=100', { token: await owner.token() }),
    200,
  );
  const found = page.items.find((n) => n.data.approvalId === approvalId);
  if (!found) throw new Error(`setup: no notification for approval ${approvalId}`);
  const path = `/notifications/${found.notificationId}`;
  // Delivery is asynchronous: snapshot once it has settled, so a re-read compares like with like.
  const token = await owner.token();
  await eventually(
    async () => {
      const now = await must<{ status: string }>(`GET ${path}`, call('GET', path, { token }), 200);
      if (now.status === 'pending') throw new Error(`setup: ${path} is still pending`);
    },
    { timeoutMs: 20_000 },
  );
  return { path, snapshot: readAs(owner, path), marker: found.notificationId };
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
  // A tenant's private-network egress allowlist: platform operators only, never the tenant itself
  { method: 'GET', path: '/tenants/{tenantId}/egress', permission: 'platform', setup: tenantEgress },
  {
    method: 'PUT',
    path: '/tenants/{tenantId}/egress',
    permission: 'platform',
    body: { allow: ['10.0.0.0/8'] },
    setup: tenantEgress,
  },
  // Offboarding: platform operators only; a tenant can never erase itself (or another) this way
  { method: 'DELETE', path: '/tenants/{tenantId}', permission: 'platform', setup: tenant },
  {
    method: 'GET',
    path: '/tenants/{tenantId}/offboarding',
    permission: 'platform',
    setup: offboardedTenant,
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
  { method: 'POST', path: '/users/{userId}/erasure', permission: 'users:manage', setup: erasable },

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
  { method: 'GET', path: '/audit/public-key', permission: 'audit:read' },

  // Agents
  { method: 'GET', path: '/agents', permission: 'agents:read', setup: listing(agent, '/agents') },
  { method: 'POST', path: '/agents', permission: 'agents:write', body: agentBody },
  { method: 'GET', path: '/agents/{agentId}', permission: 'agents:read', setup: agent },
  { method: 'PUT', path: '/agents/{agentId}', permission: 'agents:write', body: agentBody, setup: agent },
  { method: 'DELETE', path: '/agents/{agentId}', permission: 'agents:write', setup: agent },
  {
    method: 'GET',
    path: '/agents/{agentId}/versions',
    permission: 'agents:read',
    setup: versioned(agent, agentBody, 'versions'),
  },
  {
    method: 'GET',
    path: '/agents/{agentId}/versions/{version}',
    permission: 'agents:read',
    setup: versioned(agent, agentBody, 'versions/1'),
  },

  // Tools
  { method: 'GET', path: '/tools', permission: 'tools:read', setup: listing(tool, '/tools') },
  { method: 'POST', path: '/tools', permission: 'tools:write', body: toolBody },
  { method: 'GET', path: '/tools/{toolId}', permission: 'tools:read', setup: tool },
  { method: 'PUT', path: '/tools/{toolId}', permission: 'tools:write', body: toolBody, setup: tool },
  { method: 'DELETE', path: '/tools/{toolId}', permission: 'tools:write', setup: tool },
  {
    method: 'GET',
    path: '/tools/{toolId}/versions',
    permission: 'tools:read',
    setup: versioned(tool, toolBody, 'versions'),
  },
  {
    method: 'GET',
    path: '/tools/{toolId}/versions/{version}',
    permission: 'tools:read',
    setup: versioned(tool, toolBody, 'versions/1'),
  },

  // Workflows
  { method: 'GET', path: '/workflows', permission: 'workflows:read', setup: listing(workflow, '/workflows') },
  { method: 'POST', path: '/workflows', permission: 'workflows:write', body: workflowBody },
  { method: 'GET', path: '/workflows/{workflowId}', permission: 'workflows:read', setup: workflow },
  {
    method: 'PUT',
    path: '/workflows/{workflowId}',
    permission: 'workflows:write',
    body: workflowBody,
    setup: workflow,
  },
  { method: 'DELETE', path: '/workflows/{workflowId}', permission: 'workflows:write', setup: workflow },
  {
    method: 'GET',
    path: '/workflows/{workflowId}/versions',
    permission: 'workflows:read',
    setup: versioned(workflow, workflowBody, 'versions'),
  },
  {
    method: 'GET',
    path: '/workflows/{workflowId}/versions/{version}',
    permission: 'workflows:read',
    setup: versioned(workflow, workflowBody, 'versions/1'),
  },
  {
    method: 'GET',
    path: '/workflows/{workflowId}/diff',
    permission: 'workflows:read',
    setup: async (owner) => {
      const target = await versioned(workflow, workflowBody, 'diff?from=1&to=2')(owner);
      return { ...target, snapshot: readAs(owner, target.path.replace(/\/diff\?.*$/, '')) };
    },
  },
  {
    // Another tenant cannot attach a webhook to the owner's workflow (404).
    method: 'POST',
    path: '/workflows/{workflowId}/webhooks',
    permission: 'workflows:write',
    body: { environment: 'dev' },
    setup: async (owner) => {
      const made = await workflow(owner);
      return { ...made, path: `${made.path}/webhooks` };
    },
  },
  {
    // Another tenant cannot list the owner's workflow's webhooks (404), nor see their ids.
    method: 'GET',
    path: '/workflows/{workflowId}/webhooks',
    permission: 'workflows:read',
    setup: async (owner) => {
      const workflowId = await quickWorkflow(owner);
      const made = await must<{ webhookId: string }>(
        'POST webhooks',
        call('POST', `/workflows/${workflowId}/webhooks`, { token: await owner.token(), body: {} }),
        201,
      );
      return { path: `/workflows/${workflowId}/webhooks`, marker: made.webhookId };
    },
  },
  { method: 'DELETE', path: '/webhooks/{webhookId}', permission: 'workflows:write', setup: webhook },
  {
    // Another tenant cannot schedule the owner's workflow (404).
    method: 'POST',
    path: '/workflows/{workflowId}/schedules',
    permission: 'workflows:write',
    body: { cron: '0 0 1 1 *', environment: 'dev' },
    setup: async (owner) => {
      const made = await workflow(owner);
      return { ...made, path: `${made.path}/schedules` };
    },
  },
  {
    // Another tenant cannot list the owner's workflow's schedules (404), nor see their ids.
    method: 'GET',
    path: '/workflows/{workflowId}/schedules',
    permission: 'workflows:read',
    setup: async (owner) => {
      const { workflowId, scheduleId } = await scheduled(owner);
      return { path: `/workflows/${workflowId}/schedules`, marker: scheduleId };
    },
  },
  // Another tenant's DELETE is 404 and the owner's schedule stays listed.
  { method: 'DELETE', path: '/schedules/{scheduleId}', permission: 'workflows:write', setup: schedule },
  {
    // Another tenant's rollback is 404 and the owner's workflow keeps its latest version.
    method: 'POST',
    path: '/workflows/{workflowId}/rollback',
    permission: 'workflows:write',
    body: { version: 1 },
    setup: async (owner) => {
      const made = await workflow(owner);
      return { ...made, path: `${made.path}/rollback` };
    },
  },
  {
    // Another tenant's promotion is 404 and the owner's environments stay as they were.
    method: 'POST',
    path: '/workflows/{workflowId}/promotions',
    permission: 'workflows:promote',
    body: { version: 1, environment: 'staging' },
    setup: async (owner) => {
      const made = await workflow(owner);
      return { ...made, path: `${made.path}/promotions` };
    },
  },

  // Approvals: pending promotions and approval steps; the owner's admin decides requests of its API key
  {
    method: 'GET',
    path: '/approvals',
    permission: 'approvals:decide',
    setup: async (owner) => ({ ...(await promotionRequest(owner)), path: '/approvals?limit=100' }),
  },
  {
    // Another tenant's decision is 404: the approval stays pending and the execution keeps waiting.
    method: 'POST',
    path: '/approvals/{approvalId}/decision',
    permission: 'approvals:decide',
    body: { decision: 'approve', comment: 'matrix' },
    setup: async (owner) => {
      const { executionId, approvalId } = await waiting(owner);
      const approval = readFromList(owner, '/approvals', 'approvalId', approvalId);
      const run = readAs(owner, `/executions/${executionId}`);
      return {
        path: `/approvals/${approvalId}/decision`,
        marker: approvalId,
        snapshot: async () => ({ approval: await approval(), execution: await run() }),
      };
    },
  },

  // Executions
  {
    // Starting another tenant's workflow is 404 and starts nothing there.
    method: 'POST',
    path: '/workflows/{workflowId}/executions',
    permission: 'executions:start',
    body: { input: { matrix: true } },
    setup: async (owner) => {
      const made = await deployed(owner);
      const list = `/executions?workflowId=${made.id}&limit=100`;
      return { path: `${made.path}/executions`, marker: made.id, snapshot: readAs(owner, list) };
    },
  },
  {
    method: 'GET',
    path: '/executions',
    permission: 'executions:read',
    setup: listing(execution, '/executions'),
  },
  { method: 'GET', path: '/executions/{executionId}', permission: 'executions:read', setup: execution },
  {
    // Another tenant's cancel is 404 and the execution keeps waiting.
    method: 'POST',
    path: '/executions/{executionId}/cancel',
    permission: 'executions:cancel',
    setup: async (owner) => {
      const { executionId } = await waiting(owner);
      const path = `/executions/${executionId}`;
      return { path: `${path}/cancel`, marker: executionId, snapshot: readAs(owner, path) };
    },
  },
  {
    // Another tenant's redrive is 404 and the execution stays FAILED, never redriven.
    method: 'POST',
    path: '/executions/{executionId}/redrive',
    permission: 'executions:start',
    setup: failed,
  },

  // Notifications: channels and the notifications sent, with their delivery logs
  {
    method: 'GET',
    path: '/notification-channels',
    permission: 'notifications:manage',
    setup: listing(notificationChannel, '/notification-channels'),
  },
  {
    method: 'POST',
    path: '/notification-channels',
    permission: 'notifications:manage',
    body: () => ({
      name: uniqueName('matrix-channel'),
      type: 'email',
      events: ['budget.threshold'],
      target: uniqueEmail('matrix-notify'),
    }),
  },
  {
    method: 'DELETE',
    path: '/notification-channels/{channelId}',
    permission: 'notifications:manage',
    setup: notificationChannel,
  },
  {
    method: 'GET',
    path: '/notifications',
    permission: 'notifications:manage',
    setup: listing(notification, '/notifications'),
  },
  {
    method: 'GET',
    path: '/notifications/{notificationId}',
    permission: 'notifications:manage',
    setup: notification,
  },

  // Usage and budget: tenant-wide singletons, so another tenant's admin reads and sets its own
  { method: 'GET', path: '/usage', permission: 'usage:read' },
  { method: 'GET', path: '/budget', permission: 'budgets:manage', setup: budget },
  {
    method: 'PUT',
    path: '/budget',
    permission: 'budgets:manage',
    body: { monthlyLimitUsd: '12.34', alertThresholds: [80] },
    setup: budget,
    foreignStatus: 200,
  },

  // Single sign-on: providers are the tenant's own; the SSO setting is a tenant-wide singleton
  {
    method: 'GET',
    path: '/identity-providers',
    permission: 'tenant:admin',
    setup: listing(identityProvider, '/identity-providers'),
  },
  { method: 'POST', path: '/identity-providers', permission: 'tenant:admin', body: identityProviderBody },
  {
    method: 'GET',
    path: '/identity-providers/{providerId}',
    permission: 'tenant:admin',
    setup: identityProvider,
  },
  {
    method: 'PATCH',
    path: '/identity-providers/{providerId}',
    permission: 'tenant:admin',
    body: { groupMapping: [{ group: 'ops', roles: ['operator'] }] },
    setup: identityProvider,
  },
  {
    method: 'DELETE',
    path: '/identity-providers/{providerId}',
    permission: 'tenant:admin',
    setup: identityProvider,
  },
  {
    method: 'POST',
    path: '/identity-providers/{providerId}/domains/{domain}/verify',
    permission: 'tenant:admin',
    setup: providerDomain,
  },
  { method: 'GET', path: '/sso', permission: 'tenant:admin', setup: ssoSettings },
  {
    method: 'PUT',
    path: '/sso',
    permission: 'tenant:admin',
    body: { requireSso: false },
    setup: ssoSettings,
  },
  // The tenant's own data lifecycle: exports by id (another tenant's are unknown), retention singleton
  { method: 'POST', path: '/tenant/exports', permission: 'tenant:admin' },
  { method: 'GET', path: '/tenant/exports/{exportId}', permission: 'tenant:admin', setup: tenantExport },
  { method: 'GET', path: '/tenant/retention', permission: 'tenant:admin', setup: retention },
  {
    method: 'PUT',
    path: '/tenant/retention',
    permission: 'tenant:admin',
    body: { executionRetentionDays: 30 },
    setup: retention,
    foreignStatus: 200,
  },
];

/** Routes that need no credential; the guard test does not expect rows for them. */
export const PUBLIC_ROUTES: readonly string[] = PUBLIC_ROUTE_KEYS;
