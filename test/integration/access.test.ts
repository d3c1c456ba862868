import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keys } from '#adapters/dynamo/keys.ts';
import { BUILT_IN_ROLES } from '#core/access/permissions.ts';
import type { AuditRecord } from '#core/audit/audit.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import { type ApiResponse, type CallOptions, call, type Problem } from '../helpers/api.ts';
import {
  authCacheTimeoutMs,
  createApiKey,
  createRole,
  createTenant,
  eventually,
  inviteUser,
  type TestTenant,
  uniqueEmail,
  uniqueName,
} from '../helpers/tenants.ts';
import { accessToken, platformAdminToken } from '../helpers/tokens.ts';
import { bodyOf, ROUTES } from './routes-matrix.ts';

/**
 * Tenancy and access control end to end: tenants, users, teams, roles, API keys, secrets and the
 * audit trail, each area on tenants of its own (made once per area), so nothing here depends on the
 * demo tenant's state or on another file.
 */

// Shapes of the API's answers (docs/api.md).
interface TenantView {
  tenantId: string;
  name: string;
  plan: string;
  status: string;
  adminEmail: string;
  createdAt: string;
  updatedAt: string;
}
interface UserView {
  userId: string;
  tenantId: string;
  email: string;
  roles: string[];
  teams: string[];
  status: string;
}
interface TeamView {
  teamId: string;
  name: string;
  members: string[];
}
interface RoleView {
  name: string;
  permissions: string[];
  builtIn: boolean;
}
interface KeyView {
  keyId: string;
  name: string;
  scopes: string[];
  expiresAt: string;
  lastUsedAt?: string;
  key?: string;
}
interface SecretView {
  name: string;
  version: number;
  description?: string;
  createdAt: string;
  updatedAt: string;
}
interface Me {
  tenantId?: string;
  principal: { id: string; type: string; email?: string };
  roles: string[];
  permissions: string[];
}
interface Page<T> {
  items: T[];
  nextCursor?: string;
}
interface Verdict {
  ok: boolean;
  digests: number;
  digested: number;
  undigested: number;
  firstDivergence?: { kind: string; recordId?: string; message: string };
}

/** The permissions exactly as docs/api.md lists them (not imported from the code under test). */
const CONTRACT_PERMISSIONS = [
  'agents:read',
  'agents:write',
  'tools:read',
  'tools:write',
  'workflows:read',
  'workflows:write',
  'workflows:promote',
  'executions:start',
  'executions:read',
  'executions:cancel',
  'approvals:decide',
  'secrets:write',
  'secrets:use',
  'users:manage',
  'roles:manage',
  'apikeys:manage',
  'usage:read',
  'budgets:manage',
  'audit:read',
  'notifications:manage',
  'tenant:admin',
] as const;

const inAYear = (days = 30): string => new Date(Date.now() + days * 24 * 3600 * 1000).toISOString();

function expectProblem(response: ApiResponse<unknown>, status: number, code?: string): Problem {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = response.body as Problem;
  if (code) expect(problem.type).toMatch(new RegExp(`/${code}$`));
  return problem;
}

/** The field paths a 400/409 problem names. */
function errorPaths(response: ApiResponse<unknown>): string[] {
  return ((response.body as Problem).errors ?? []).map((e) => e.path);
}

/** Every item of a list, following `nextCursor`. */
async function listAll<T>(path: string, options: CallOptions, limit = 100): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  const separator = path.includes('?') ? '&' : '?';
  do {
    const page = await call<Page<T>>(
      'GET',
      `${path}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      options,
    );
    expect(page.status, page.text).toBe(200);
    out.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return out;
}

async function statusOf(method: string, path: string, options: CallOptions): Promise<number> {
  return (await call(method, path, options)).status;
}

/** Waits until `GET /me` with `options` answers `status` (the authorizer cache lets changes bite within its TTL). */
async function meBecomes(options: CallOptions, status: number, extraMs = 0): Promise<void> {
  await eventually(async () => expect(await statusOf('GET', '/me', options)).toBe(status), {
    timeoutMs: authCacheTimeoutMs(extraMs),
  });
}

describe('tenants (platform operators)', () => {
  let platform: string;
  beforeAll(async () => {
    platform = await platformAdminToken();
  });

  it('POST /tenants creates the tenant and its admin: 201 with Location', async () => {
    // Prepare
    const name = uniqueName('acme');
    const adminEmail = uniqueEmail('Acme-Admin');
    // Act
    const created = await call<TenantView>('POST', '/tenants', {
      token: platform,
      body: { name, plan: 'free', adminEmail },
    });
    // Assess
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/tenants/${created.body.tenantId}`);
    expect(created.body).toMatchObject({
      name,
      plan: 'free',
      status: 'active',
      adminEmail: adminEmail.toLowerCase(),
    });
    expect(created.body.tenantId).toMatch(/^t[a-z0-9]{16}$/);
  });

  it('GET /tenants lists it, GET /tenants/{id} reads it, PATCH renames and changes the plan', async () => {
    // Prepare
    const tenant = await createTenant('lifecycle', 'free');
    // Act
    const listed = await listAll<TenantView>('/tenants', { token: platform });
    const read = await call<TenantView>('GET', `/tenants/${tenant.tenantId}`, { token: platform });
    const renamed = uniqueName('renamed');
    const patched = await call<TenantView>('PATCH', `/tenants/${tenant.tenantId}`, {
      token: platform,
      body: { name: renamed, plan: 'enterprise' },
    });
    const reread = await call<TenantView>('GET', `/tenants/${tenant.tenantId}`, { token: platform });
    // Assess
    expect(listed.map((t) => t.tenantId)).toContain(tenant.tenantId);
    expect(read.status, read.text).toBe(200);
    expect(read.body).toMatchObject({ tenantId: tenant.tenantId, name: tenant.name, plan: 'free' });
    expect(patched.status, patched.text).toBe(200);
    expect(reread.body).toMatchObject({ name: renamed, plan: 'enterprise', status: 'active' });
    expect(reread.body.updatedAt >= read.body.updatedAt).toBe(true);
  });

  it('an unknown or malformed tenant id is 404; an admin email already in use is 409', async () => {
    // Prepare
    const existing = inject('demo').users[0]?.username ?? 'admin@demo.meridian.local';
    // Act
    const unknown = await call('GET', '/tenants/t0000000000000000', { token: platform });
    const malformed = await call('GET', '/tenants/not-a-tenant', { token: platform });
    const duplicate = await call('POST', '/tenants', {
      token: platform,
      body: { name: uniqueName('dup'), plan: 'pro', adminEmail: existing },
    });
    // Assess
    expectProblem(unknown, 404, 'not-found');
    expectProblem(malformed, 404, 'not-found');
    expectProblem(duplicate, 409, 'conflict');
  });

  it('PATCH status suspended refuses the tenant on every route (tenant-suspended), API keys too; reactivating restores it', async () => {
    // Prepare
    const tenant = await createTenant('suspend');
    const admin = { token: await tenant.token() };
    const key = { apiKey: (await createApiKey(admin.token, ['usage:read', 'users:manage'])).key };
    expect(await statusOf('GET', '/users', key)).toBe(200);
    // Act
    const suspended = await call<TenantView>('PATCH', `/tenants/${tenant.tenantId}`, {
      token: platform,
      body: { status: 'suspended' },
    });
    // Assess
    expect(suspended.status, suspended.text).toBe(200);
    expect(suspended.body.status).toBe('suspended');
    await eventually(async () => expectProblem(await call('GET', '/me', admin), 403, 'tenant-suspended'), {
      timeoutMs: authCacheTimeoutMs(),
    });
    await eventually(async () => expectProblem(await call('GET', '/users', key), 403, 'tenant-suspended'), {
      timeoutMs: authCacheTimeoutMs(),
    });
    for (const row of ROUTES) {
      const path = row.path.replace(/\{\w+\}/g, 'zz0000000000000000');
      const body = row.method === 'GET' || row.method === 'DELETE' ? undefined : bodyOf(row);
      const response = await call<Problem>(row.method, path, {
        ...admin,
        ...(body === undefined ? {} : { body }),
      });
      expect(response.status, `${row.method} ${row.path}: ${response.text}`).toBe(403);
      expect(response.body.type, `${row.method} ${row.path}`).toMatch(/\/tenant-suspended$/);
    }
    // Other tenants and the operator are unaffected.
    expect(await statusOf('GET', '/me', { token: await accessToken('admin') })).toBe(200);
    const read = await call<TenantView>('GET', `/tenants/${tenant.tenantId}`, { token: platform });
    expect(read.body.status).toBe('suspended');

    // Act: reactivate
    const reactivated = await call<TenantView>('PATCH', `/tenants/${tenant.tenantId}`, {
      token: platform,
      body: { status: 'active' },
    });
    // Assess
    expect(reactivated.status, reactivated.text).toBe(200);
    await meBecomes(admin, 200);
    await eventually(async () => expect(await statusOf('GET', '/users', key)).toBe(200), {
      timeoutMs: authCacheTimeoutMs(),
    });
    const actions = (await listAll<AuditRecord>('/audit?action=tenant.suspend', admin)).concat(
      await listAll<AuditRecord>('/audit?action=tenant.activate', admin),
    );
    expect(actions.map((r) => [r.action, r.actor.type]).sort()).toEqual([
      ['tenant.activate', 'platform'],
      ['tenant.suspend', 'platform'],
    ]);
  });
});

describe('users', () => {
  let tenant: TestTenant;
  let other: TestTenant;
  let admin: string;
  beforeAll(async () => {
    [tenant, other] = await Promise.all([createTenant('users'), createTenant('users-other')]);
    admin = await tenant.token();
  });

  it('POST /users invites: 201 with Location; GET and the list show the user', async () => {
    // Prepare
    const email = uniqueEmail('Invitee');
    // Act
    const invited = await call<UserView>('POST', '/users', {
      token: admin,
      body: { email, roles: ['developer', 'operator'] },
    });
    // Assess
    expect(invited.status, invited.text).toBe(201);
    expect(invited.headers.get('location')).toBe(`/users/${invited.body.userId}`);
    expect(invited.body).toMatchObject({
      tenantId: tenant.tenantId,
      email: email.toLowerCase(),
      roles: ['developer', 'operator'],
      teams: [],
      status: 'active',
    });
    const read = await call<UserView>('GET', `/users/${invited.body.userId}`, { token: admin });
    expect(read.body).toEqual(invited.body);
    const listed = await listAll<UserView>('/users', { token: admin });
    expect(listed.map((u) => u.userId)).toContain(invited.body.userId);
  });

  it('a duplicate email is 409 in the same tenant (any case); another tenant’s email answers like a new one', async () => {
    // Prepare
    const email = uniqueEmail('dup');
    expect(await statusOf('POST', '/users', { token: admin, body: { email, roles: ['viewer'] } })).toBe(201);
    // Act
    const sameTenant = await call('POST', '/users', { token: admin, body: { email, roles: ['viewer'] } });
    const upperCase = await call('POST', '/users', {
      token: admin,
      body: { email: email.toUpperCase(), roles: ['viewer'] },
    });
    const otherTenant = await call('POST', '/users', {
      token: await other.token(),
      body: { email, roles: ['viewer'] },
    });
    const otherAdmin = await call('POST', '/users', {
      token: admin,
      body: { email: other.adminEmail, roles: ['viewer'] },
    });
    // Assess
    expectProblem(sameTenant, 409, 'conflict');
    expectProblem(upperCase, 409, 'conflict');
    // Answering 409 would reveal that the address exists elsewhere (README, "No email enumeration").
    expect(otherTenant.status, otherTenant.text).toBe(201);
    expect(otherAdmin.status, otherAdmin.text).toBe(201);
    const otherUsers = await listAll<UserView>('/users', { token: await other.token() });
    expect(otherUsers.filter((u) => u.email === email)).toHaveLength(1);
  });

  it('a bad email is 400 naming `email`; an unknown role is 400 naming `roles.N`', async () => {
    // Act
    const badEmail = await call('POST', '/users', {
      token: admin,
      body: { email: 'not-an-email', roles: ['viewer'] },
    });
    const unknownRole = await call('POST', '/users', {
      token: admin,
      body: { email: uniqueEmail('role'), roles: ['no-such-role'] },
    });
    const secondUnknown = await call('POST', '/users', {
      token: admin,
      body: { email: uniqueEmail('role'), roles: ['viewer', 'no-such-role'] },
    });
    // Assess
    expectProblem(badEmail, 400, 'validation-error');
    expect(errorPaths(badEmail)).toEqual(['email']);
    expectProblem(unknownRole, 400, 'validation-error');
    expect(errorPaths(unknownRole)).toEqual(['roles.0']);
    expect(errorPaths(secondUnknown)).toEqual(['roles.1']);
  });

  it('unknown fields are 400 naming each (no mass assignment): tenantId, status, userId', async () => {
    // Prepare
    const email = uniqueEmail('mass');
    const target = await inviteUser(admin, uniqueEmail('mass-target'), ['viewer']);
    // Act
    const invite = await call('POST', '/users', {
      token: admin,
      body: { email, roles: ['viewer'], tenantId: other.tenantId, status: 'disabled', userId: 'u-chosen' },
    });
    const patch = await call('PATCH', `/users/${target.userId}`, {
      token: admin,
      body: { roles: ['viewer'], tenantId: other.tenantId, email: 'x@y.io', userId: 'u-chosen' },
    });
    // Assess
    expectProblem(invite, 400, 'validation-error');
    expect(errorPaths(invite).sort()).toEqual(['status', 'tenantId', 'userId']);
    expectProblem(patch, 400, 'validation-error');
    expect(errorPaths(patch).sort()).toEqual(['email', 'tenantId', 'userId']);
    const users = await listAll<UserView>('/users', { token: admin });
    expect(users.map((u) => u.email)).not.toContain(email);
    const after = await call<UserView>('GET', `/users/${target.userId}`, { token: admin });
    expect(after.body).toMatchObject({ tenantId: tenant.tenantId, email: target.email, status: 'active' });
  });

  it("disabling refuses the user's next request (401 after the cache TTL); enabling restores access", async () => {
    // Prepare
    const user = await inviteUser(admin, uniqueEmail('disable'), ['viewer']);
    const own = { token: await user.token() };
    expect(await statusOf('GET', '/me', own)).toBe(200);
    // Act
    const disabled = await call<UserView>('PATCH', `/users/${user.userId}`, {
      token: admin,
      body: { status: 'disabled' },
    });
    // Assess
    expect(disabled.status, disabled.text).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    await eventually(async () => expectProblem(await call('GET', '/me', own), 401, 'unauthenticated'), {
      timeoutMs: authCacheTimeoutMs(),
    });
    // Act: enable
    const enabled = await call<UserView>('PATCH', `/users/${user.userId}`, {
      token: admin,
      body: { status: 'active' },
    });
    // Assess
    expect(enabled.status, enabled.text).toBe(200);
    await meBecomes(own, 200);
  });

  it('DELETE removes the user and the login: 204, then 404, the token is refused and the email is free again', async () => {
    // Prepare
    const user = await inviteUser(admin, uniqueEmail('delete'), ['viewer']);
    const own = { token: await user.token() };
    // Act
    const deleted = await call('DELETE', `/users/${user.userId}`, { token: admin });
    // Assess
    expect(deleted.status, deleted.text).toBe(204);
    expectProblem(await call('GET', `/users/${user.userId}`, { token: admin }), 404, 'not-found');
    expectProblem(await call('DELETE', `/users/${user.userId}`, { token: admin }), 404, 'not-found');
    await meBecomes(own, 401);
    expect(
      await statusOf('POST', '/users', { token: admin, body: { email: user.email, roles: ['viewer'] } }),
    ).toBe(201);
  });

  it('nobody changes their own roles or status (403), even an admin', async () => {
    // Act
    const roles = await call('PATCH', `/users/${tenant.adminUserId}`, {
      token: admin,
      body: { roles: ['viewer'] },
    });
    const status = await call('PATCH', `/users/${tenant.adminUserId}`, {
      token: admin,
      body: { status: 'disabled' },
    });
    // Assess
    expectProblem(roles, 403, 'forbidden');
    expectProblem(status, 403, 'forbidden');
    const self = await call<UserView>('GET', `/users/${tenant.adminUserId}`, { token: admin });
    expect(self.body).toMatchObject({ roles: ['admin'], status: 'active' });
  });

  it('a user manager cannot grant permissions they lack (403), but can grant what they hold', async () => {
    // Prepare: developer permissions plus users:manage
    const role = await createRole(admin, 'dev-admin', [...(BUILT_IN_ROLES.developer ?? []), 'users:manage']);
    const manager = await inviteUser(admin, uniqueEmail('dev-admin'), [role]);
    const managerToken = await manager.token();
    const victim = await inviteUser(admin, uniqueEmail('victim'), ['viewer']);
    // Act
    const inviteAdmin = await call('POST', '/users', {
      token: managerToken,
      body: { email: uniqueEmail('escalate'), roles: ['admin'] },
    });
    const inviteOperator = await call('POST', '/users', {
      token: managerToken,
      body: { email: uniqueEmail('escalate'), roles: ['operator'] },
    });
    const promote = await call('PATCH', `/users/${victim.userId}`, {
      token: managerToken,
      body: { roles: ['admin'] },
    });
    const inviteDeveloper = await call('POST', '/users', {
      token: managerToken,
      body: { email: uniqueEmail('ok'), roles: ['developer'] },
    });
    // Assess
    expectProblem(inviteAdmin, 403, 'forbidden');
    expectProblem(inviteOperator, 403, 'forbidden');
    expectProblem(promote, 403, 'forbidden');
    expect(inviteDeveloper.status, inviteDeveloper.text).toBe(201);
    const unchanged = await call<UserView>('GET', `/users/${victim.userId}`, { token: admin });
    expect(unchanged.body.roles).toEqual(['viewer']);
  });
});

describe('teams', () => {
  let tenant: TestTenant;
  let admin: string;
  let members: string[];
  beforeAll(async () => {
    tenant = await createTenant('teams');
    admin = await tenant.token();
    members = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const made = await call<UserView>('POST', '/users', {
          token: admin,
          body: { email: uniqueEmail(`member${n}`), roles: ['viewer'] },
        });
        expect(made.status, made.text).toBe(201);
        return made.body.userId;
      }),
    );
  });

  const teamsOf = async (userId: string): Promise<string[]> =>
    (await call<UserView>('GET', `/users/${userId}`, { token: admin })).body.teams;

  it('creates a team with members (201 + Location); reading it lists them and the users carry it', async () => {
    // Prepare
    const [m1 = '', m2 = ''] = members;
    const name = uniqueName('Platform Team');
    // Act
    const created = await call<TeamView>('POST', '/teams', {
      token: admin,
      body: { name, members: [m1, m2] },
    });
    // Assess
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/teams/${created.body.teamId}`);
    const read = await call<TeamView>('GET', `/teams/${created.body.teamId}`, { token: admin });
    expect(read.body.name).toBe(name);
    expect([...read.body.members].sort()).toEqual([m1, m2].sort());
    expect(await teamsOf(m1)).toContain(created.body.teamId);
    expect(await teamsOf(m2)).toContain(created.body.teamId);
    const listed = await listAll<TeamView>('/teams', { token: admin });
    expect(listed.map((t) => t.teamId)).toContain(created.body.teamId);
  });

  it('inviting a user into a team (teams: [...]) makes them a member', async () => {
    // Prepare
    const created = await call<TeamView>('POST', '/teams', {
      token: admin,
      body: { name: uniqueName('invitees') },
    });
    // Act
    const invited = await call<UserView>('POST', '/users', {
      token: admin,
      body: { email: uniqueEmail('joiner'), roles: ['viewer'], teams: [created.body.teamId] },
    });
    // Assess
    expect(invited.status, invited.text).toBe(201);
    expect(invited.body.teams).toEqual([created.body.teamId]);
    const read = await call<TeamView>('GET', `/teams/${created.body.teamId}`, { token: admin });
    expect(read.body.members).toEqual([invited.body.userId]);
  });

  it('renames a team and replaces its members', async () => {
    // Prepare
    const [m1 = '', m2 = '', m3 = ''] = members;
    const created = await call<TeamView>('POST', '/teams', {
      token: admin,
      body: { name: uniqueName('before'), members: [m1, m2] },
    });
    const teamId = created.body.teamId;
    const renamed = uniqueName('after');
    // Act
    const rename = await call<TeamView>('PATCH', `/teams/${teamId}`, {
      token: admin,
      body: { name: renamed },
    });
    const replace = await call<TeamView>('PATCH', `/teams/${teamId}`, {
      token: admin,
      body: { members: [m2, m3] },
    });
    // Assess
    expect(rename.status, rename.text).toBe(200);
    expect(replace.status, replace.text).toBe(200);
    const read = await call<TeamView>('GET', `/teams/${teamId}`, { token: admin });
    expect(read.body.name).toBe(renamed);
    expect([...read.body.members].sort()).toEqual([m2, m3].sort());
    expect(await teamsOf(m1)).not.toContain(teamId);
    expect(await teamsOf(m2)).toContain(teamId);
    expect(await teamsOf(m3)).toContain(teamId);
  });

  it('a duplicate name is 409 (on create and on rename, any case); an unknown member is 400 naming members.N', async () => {
    // Prepare
    const name = uniqueName('dup-team');
    const first = await call<TeamView>('POST', '/teams', { token: admin, body: { name } });
    const second = await call<TeamView>('POST', '/teams', {
      token: admin,
      body: { name: uniqueName('second') },
    });
    // Act
    const duplicate = await call('POST', '/teams', { token: admin, body: { name } });
    const upper = await call('POST', '/teams', { token: admin, body: { name: name.toUpperCase() } });
    const renameOnto = await call('PATCH', `/teams/${second.body.teamId}`, { token: admin, body: { name } });
    const unknownMember = await call('POST', '/teams', {
      token: admin,
      body: { name: uniqueName('ghosts'), members: [members[0] ?? '', 'no-such-user'] },
    });
    // Assess
    expect(first.status).toBe(201);
    expectProblem(duplicate, 409, 'conflict');
    expectProblem(upper, 409, 'conflict');
    expectProblem(renameOnto, 409, 'conflict');
    expectProblem(unknownMember, 400, 'validation-error');
    expect(errorPaths(unknownMember)).toEqual(['members.1']);
  });

  it("DELETE removes the team (204, then 404) and from its members' teams; the name is free again", async () => {
    // Prepare
    const [m1 = '', m2 = ''] = members;
    const name = uniqueName('doomed');
    const created = await call<TeamView>('POST', '/teams', {
      token: admin,
      body: { name, members: [m1, m2] },
    });
    const teamId = created.body.teamId;
    // Act
    const deleted = await call('DELETE', `/teams/${teamId}`, { token: admin });
    // Assess
    expect(deleted.status, deleted.text).toBe(204);
    expectProblem(await call('GET', `/teams/${teamId}`, { token: admin }), 404, 'not-found');
    expect(await teamsOf(m1)).not.toContain(teamId);
    expect(await teamsOf(m2)).not.toContain(teamId);
    expect(await statusOf('POST', '/teams', { token: admin, body: { name } })).toBe(201);
  });
});

describe('roles', () => {
  let tenant: TestTenant;
  let admin: string;
  beforeAll(async () => {
    tenant = await createTenant('roles');
    admin = await tenant.token();
  });

  it('lists the built-in roles with the contract’s permissions, and they are read-only (403)', async () => {
    // Act
    const listed = await call<Page<RoleView>>('GET', '/roles', { token: admin });
    const put = await call('PUT', '/roles/admin', { token: admin, body: { permissions: ['agents:read'] } });
    const del = await call('DELETE', '/roles/admin', { token: admin });
    const putViewer = await call('PUT', '/roles/viewer', {
      token: admin,
      body: { permissions: ['audit:read'] },
    });
    // Assess
    expect(listed.status, listed.text).toBe(200);
    const builtIns = Object.fromEntries(
      listed.body.items.filter((r) => r.builtIn).map((r) => [r.name, [...r.permissions].sort()]),
    );
    const reads = (p: string): boolean => p.endsWith(':read');
    const all = [...CONTRACT_PERMISSIONS];
    expect(builtIns).toEqual({
      admin: [...all].sort(),
      developer: [
        'agents:read',
        'agents:write',
        'executions:read',
        'executions:start',
        'secrets:use',
        'tools:read',
        'tools:write',
        'usage:read',
        'workflows:read',
        'workflows:write',
      ],
      operator: [
        'agents:read',
        'approvals:decide',
        'executions:cancel',
        'executions:read',
        'executions:start',
        'tools:read',
        'usage:read',
        'workflows:read',
      ],
      viewer: all.filter((p) => reads(p) && p !== 'audit:read').sort(),
      auditor: all.filter(reads).sort(),
    });
    expectProblem(put, 403, 'forbidden');
    expectProblem(del, 403, 'forbidden');
    expectProblem(putViewer, 403, 'forbidden');
    const admins = await call<RoleView>('GET', '/roles/admin', { token: admin });
    expect(admins.body.permissions).toHaveLength(CONTRACT_PERMISSIONS.length);
  });

  it('custom role: create (201 + Location), read, update, delete (204, then 404)', async () => {
    // Prepare
    const name = uniqueName('reviewer');
    // Act
    const created = await call<RoleView>('POST', '/roles', {
      token: admin,
      body: { name, permissions: ['workflows:read', 'agents:read'] },
    });
    const read = await call<RoleView>('GET', `/roles/${name}`, { token: admin });
    const updated = await call<RoleView>('PUT', `/roles/${name}`, {
      token: admin,
      body: { permissions: ['workflows:read', 'approvals:decide'] },
    });
    const reread = await call<RoleView>('GET', `/roles/${name}`, { token: admin });
    const deleted = await call('DELETE', `/roles/${name}`, { token: admin });
    const gone = await call('GET', `/roles/${name}`, { token: admin });
    // Assess
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/roles/${name}`);
    expect(read.body).toMatchObject({ name, builtIn: false, permissions: ['agents:read', 'workflows:read'] });
    expect(updated.status, updated.text).toBe(200);
    expect(reread.body.permissions).toEqual(['approvals:decide', 'workflows:read']);
    expect(deleted.status, deleted.text).toBe(204);
    expectProblem(gone, 404, 'not-found');
  });

  it('a duplicate name is 409; an unknown permission is 400 naming permissions.N', async () => {
    // Prepare
    const name = uniqueName('dup-role');
    expect(
      await statusOf('POST', '/roles', { token: admin, body: { name, permissions: ['agents:read'] } }),
    ).toBe(201);
    // Act
    const duplicate = await call('POST', '/roles', {
      token: admin,
      body: { name, permissions: ['tools:read'] },
    });
    const builtInName = await call('POST', '/roles', {
      token: admin,
      body: { name: 'admin', permissions: ['tools:read'] },
    });
    const unknown = await call('POST', '/roles', {
      token: admin,
      body: { name: uniqueName('bad'), permissions: ['agents:destroy'] },
    });
    const secondUnknown = await call('POST', '/roles', {
      token: admin,
      body: { name: uniqueName('bad'), permissions: ['agents:read', 'platform:admin'] },
    });
    // Assess
    expectProblem(duplicate, 409, 'conflict');
    expectProblem(builtInName, 409, 'conflict');
    expectProblem(unknown, 400, 'validation-error');
    expect(errorPaths(unknown)).toEqual(['permissions.0']);
    expect(errorPaths(secondUnknown)).toEqual(['permissions.1']);
    const kept = await call<RoleView>('GET', `/roles/${name}`, { token: admin });
    expect(kept.body.permissions).toEqual(['agents:read']);
  });

  it('a role manager cannot put permissions they lack into a role (403)', async () => {
    // Prepare
    const managerRole = await createRole(admin, 'role-mgr', ['roles:manage', 'agents:read']);
    const manager = await inviteUser(admin, uniqueEmail('role-mgr'), [managerRole]);
    const target = await createRole(admin, 'target', ['agents:read']);
    // Act
    const create = await call('POST', '/roles', {
      token: await manager.token(),
      body: { name: uniqueName('esc'), permissions: ['agents:read', 'users:manage'] },
    });
    const update = await call('PUT', `/roles/${target}`, {
      token: await manager.token(),
      body: { permissions: ['tenant:admin'] },
    });
    // Assess
    expectProblem(create, 403, 'forbidden');
    expectProblem(update, 403, 'forbidden');
    expect((await call<RoleView>('GET', `/roles/${target}`, { token: admin })).body.permissions).toEqual([
      'agents:read',
    ]);
  });

  it('a role assigned to a user cannot be deleted (409); unassigned it can', async () => {
    // Prepare
    const role = await createRole(admin, 'assigned', ['usage:read']);
    const holder = await inviteUser(admin, uniqueEmail('holder'), [role]);
    // Act
    const refused = await call('DELETE', `/roles/${role}`, { token: admin });
    const unassign = await call('PATCH', `/users/${holder.userId}`, {
      token: admin,
      body: { roles: ['viewer'] },
    });
    const deleted = await call('DELETE', `/roles/${role}`, { token: admin });
    // Assess
    expectProblem(refused, 409, 'conflict');
    expect(unassign.status, unassign.text).toBe(200);
    expect(deleted.status, deleted.text).toBe(204);
  });

  it('a custom role named like an Object.prototype member (constructor) works like any other', async () => {
    // Prepare
    const created = await call('POST', '/roles', {
      token: admin,
      body: { name: 'constructor', permissions: ['usage:read'] },
    });
    expect(created.status, created.text).toBe(201);
    // Act
    const invited = await call<UserView>('POST', '/users', {
      token: admin,
      body: { email: uniqueEmail('ctor'), roles: ['constructor'] },
    });
    // Assess
    expect(invited.status, invited.text).toBe(201);
    const holder = await inviteUser(admin, uniqueEmail('ctor'), ['constructor', 'viewer']);
    const me = await call<Me>('GET', '/me', { token: await holder.token() });
    expect(me.status, me.text).toBe(200);
    expect(me.body.roles).toEqual(['constructor', 'viewer']);
    expect(me.body.permissions).toContain('usage:read');
  });

  it("changing a custom role changes its holders' permissions (within the cache TTL)", async () => {
    // Prepare
    const role = await createRole(admin, 'growing', ['usage:read']);
    const holder = await inviteUser(admin, uniqueEmail('grower'), [role]);
    const own = { token: await holder.token() };
    expectProblem(await call('GET', '/users', own), 403, 'forbidden');
    // Act
    const updated = await call('PUT', `/roles/${role}`, {
      token: admin,
      body: { permissions: ['usage:read', 'users:manage'] },
    });
    // Assess
    expect(updated.status, updated.text).toBe(200);
    await eventually(async () => expect(await statusOf('GET', '/users', own)).toBe(200), {
      timeoutMs: authCacheTimeoutMs(),
    });
    const me = await call<Me>('GET', '/me', own);
    expect(me.body.permissions).toEqual(['usage:read', 'users:manage']);
  });
});

describe('API keys', () => {
  let tenant: TestTenant;
  let admin: string;
  beforeAll(async () => {
    tenant = await createTenant('keys');
    admin = await tenant.token();
  });

  /** The secret part of `mk_<tenantId>_<keyId>_<secret>`: 43 base64url characters (which may hold `_`). */
  const secretOf = (key: string): string => key.slice(-43);

  it('create returns the key once (mk_...); neither the list nor any later answer shows it again', async () => {
    // Act
    const created = await call<KeyView>('POST', '/api-keys', {
      token: admin,
      body: { name: uniqueName('ci'), scopes: ['usage:read', 'agents:read'], expiresAt: inAYear() },
    });
    const listed = await call<Page<KeyView>>('GET', '/api-keys?limit=100', { token: admin });
    // Assess
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/api-keys/${created.body.keyId}`);
    const key = created.body.key ?? '';
    expect(key).toMatch(/^mk_t[a-z0-9]{16}_k[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.body.scopes).toEqual(['agents:read', 'usage:read']);
    const item = listed.body.items.find((k) => k.keyId === created.body.keyId);
    expect(item).toBeDefined();
    expect(item).not.toHaveProperty('key');
    expect(item).not.toHaveProperty('secretHash');
    expect(listed.text).not.toContain(secretOf(key));
    const audit = await call('GET', '/audit?limit=100', { token: admin });
    expect(audit.text).not.toContain(secretOf(key));
  });

  it('scopes must be a subset of the creator’s permissions: 400 naming scopes.N', async () => {
    // Prepare
    const role = await createRole(admin, 'key-maker', ['apikeys:manage', 'agents:read', 'usage:read']);
    const maker = await inviteUser(admin, uniqueEmail('key-maker'), [role]);
    const makerToken = await maker.token();
    // Act
    const outside = await call('POST', '/api-keys', {
      token: makerToken,
      body: {
        name: uniqueName('k'),
        scopes: ['agents:read', 'secrets:write', 'usage:read', 'users:manage'],
        expiresAt: inAYear(),
      },
    });
    const inside = await call<KeyView>('POST', '/api-keys', {
      token: makerToken,
      body: { name: uniqueName('k'), scopes: ['agents:read', 'apikeys:manage'], expiresAt: inAYear() },
    });
    // Assess
    expectProblem(outside, 400, 'validation-error');
    expect(errorPaths(outside)).toEqual(['scopes.1', 'scopes.3']);
    expect(inside.status, inside.text).toBe(201);
    // A key cannot mint a wider key either.
    const wider = await call('POST', '/api-keys', {
      apiKey: inside.body.key ?? '',
      body: { name: uniqueName('k'), scopes: ['usage:read'], expiresAt: inAYear() },
    });
    expectProblem(wider, 400, 'validation-error');
    expect(errorPaths(wider)).toEqual(['scopes.0']);
  });

  it('expiresAt in the past or more than a year ahead is 400 naming expiresAt', async () => {
    // Act
    const past = await call('POST', '/api-keys', {
      token: admin,
      body: {
        name: uniqueName('k'),
        scopes: ['usage:read'],
        expiresAt: new Date(Date.now() - 60_000).toISOString(),
      },
    });
    const tooFar = await call('POST', '/api-keys', {
      token: admin,
      body: { name: uniqueName('k'), scopes: ['usage:read'], expiresAt: inAYear(400) },
    });
    const withinAYear = await call('POST', '/api-keys', {
      token: admin,
      body: { name: uniqueName('k'), scopes: ['usage:read'], expiresAt: inAYear(364) },
    });
    // Assess
    expectProblem(past, 400, 'validation-error');
    expect(errorPaths(past)).toEqual(['expiresAt']);
    expectProblem(tooFar, 400, 'validation-error');
    expect(errorPaths(tooFar)).toEqual(['expiresAt']);
    expect(withinAYear.status, withinAYear.text).toBe(201);
  });

  it('the key authenticates as an apikey principal with exactly its scopes, which are enforced', async () => {
    // Prepare
    const key = await createApiKey(admin, ['usage:read', 'secrets:write']);
    // Act
    const me = await call<Me>('GET', '/me', { apiKey: key.key });
    const inScope = await call('GET', '/secrets', { apiKey: key.key });
    const outOfScope = await call('GET', '/users', { apiKey: key.key });
    // Assess
    expect(me.status, me.text).toBe(200);
    expect(me.body).toMatchObject({
      tenantId: tenant.tenantId,
      principal: { id: key.keyId, type: 'apikey' },
    });
    expect(me.body.permissions).toEqual(['secrets:write', 'usage:read']);
    expect(me.body.roles).toEqual([]);
    expect(inScope.status, inScope.text).toBe(200);
    expectProblem(outOfScope, 403, 'forbidden');
  });

  it('a wrong secret, or a key together with a bearer token, is 401', async () => {
    // Prepare
    const key = await createApiKey(admin, ['usage:read']);
    const prefix = key.key.slice(0, -43);
    const wrong = `${prefix}${randomBytes(32).toString('base64url')}`;
    // Act
    const wrongSecret = await call('GET', '/me', { apiKey: wrong });
    const both = await call('GET', '/me', { apiKey: key.key, token: admin });
    // Assess
    expectProblem(wrongSecret, 401, 'unauthenticated');
    expectProblem(both, 401, 'unauthenticated');
    expect(await statusOf('GET', '/me', { apiKey: key.key })).toBe(200);
  });

  it('revoke: 204, the key is refused (401 after the TTL), gone from the list, a second revoke is 404', async () => {
    // Prepare
    const key = await createApiKey(admin, ['usage:read']);
    expect(await statusOf('GET', '/me', { apiKey: key.key })).toBe(200);
    // Act
    const revoked = await call('DELETE', `/api-keys/${key.keyId}`, { token: admin });
    // Assess
    expect(revoked.status, revoked.text).toBe(204);
    await meBecomes({ apiKey: key.key }, 401);
    const listed = await listAll<KeyView>('/api-keys', { token: admin });
    expect(listed.map((k) => k.keyId)).not.toContain(key.keyId);
    expectProblem(await call('DELETE', `/api-keys/${key.keyId}`, { token: admin }), 404, 'not-found');
    expectProblem(
      await call('POST', `/api-keys/${key.keyId}/rotate`, { token: admin, body: {} }),
      404,
      'not-found',
    );
  });

  it('rotate with gracePeriodSeconds 2: the new key works, the old one during the grace period only', async () => {
    // Prepare
    const key = await createApiKey(admin, ['usage:read']);
    // Act
    const rotated = await call<KeyView>('POST', `/api-keys/${key.keyId}/rotate`, {
      token: admin,
      body: { gracePeriodSeconds: 2 },
    });
    const rotatedAt = Date.now();
    // Assess
    expect(rotated.status, rotated.text).toBe(200);
    const next = rotated.body.key ?? '';
    expect(next).toMatch(/^mk_/);
    expect(next).not.toBe(key.key);
    expect(rotated.body.keyId).toBe(key.keyId);
    expect(await statusOf('GET', '/me', { apiKey: next })).toBe(200);
    expect(await statusOf('GET', '/me', { apiKey: key.key })).toBe(200);
    await meBecomes({ apiKey: key.key }, 401, 2_000);
    expect(Date.now() - rotatedAt).toBeGreaterThanOrEqual(1_500);
    expect(await statusOf('GET', '/me', { apiKey: next })).toBe(200);
  });

  it('lastUsedAt appears in the list after the key is used', async () => {
    // Prepare
    const key = await createApiKey(admin, ['usage:read']);
    const find = async (): Promise<KeyView | undefined> =>
      (await listAll<KeyView>('/api-keys', { token: admin })).find((k) => k.keyId === key.keyId);
    expect((await find())?.lastUsedAt).toBeUndefined();
    const before = new Date(Date.now() - 1_000).toISOString();
    // Act
    expect(await statusOf('GET', '/me', { apiKey: key.key })).toBe(200);
    // Assess
    const used = await eventually(async () => {
      const item = await find();
      expect(item?.lastUsedAt).toBeDefined();
      return item?.lastUsedAt ?? '';
    });
    expect(used >= before).toBe(true);
  });
});

describe('secrets', () => {
  let tenant: TestTenant;
  let admin: string;
  beforeAll(async () => {
    tenant = await createTenant('secrets');
    admin = await tenant.token();
  });

  it('PUT creates (201) then replaces (200, version 2); values never come back out, not even in /audit or the logs', async () => {
    // Prepare
    const name = uniqueName('openai.key');
    const first = `sk-first-${randomBytes(12).toString('hex')}`;
    const second = `sk-second-${randomBytes(12).toString('hex')}`;
    const answers: ApiResponse<unknown>[] = [];
    // Act
    const created = await call<SecretView>('PUT', `/secrets/${name}`, {
      token: admin,
      body: { value: first, description: 'provider key' },
    });
    const replaced = await call<SecretView>('PUT', `/secrets/${name}`, {
      token: admin,
      body: { value: second },
    });
    const invalid = await call('PUT', `/secrets/${name}`, {
      token: admin,
      body: { value: second, description: 'x'.repeat(600) },
    });
    answers.push(created, replaced, invalid);
    answers.push(await call('GET', '/secrets?limit=100', { token: admin }));
    answers.push(await call('GET', '/audit?limit=100', { token: admin }));
    const auditOfSecret = await call<Page<AuditRecord>>('GET', `/audit?resource=${name}`, { token: admin });
    answers.push(auditOfSecret);
    // Assess
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/secrets/${name}`);
    expect(created.body).toMatchObject({ name, version: 1, description: 'provider key' });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body).toMatchObject({ name, version: 2, description: 'provider key' });
    expect(replaced.body.createdAt).toBe(created.body.createdAt);
    expect(replaced.body.updatedAt >= created.body.updatedAt).toBe(true);
    expectProblem(invalid, 400, 'validation-error');
    const listed = (await listAll<SecretView & { value?: unknown }>('/secrets', { token: admin })).find(
      (s) => s.name === name,
    );
    expect(listed).toMatchObject({ name, version: 2, description: 'provider key' });
    expect(Object.keys(listed ?? {}).sort()).toEqual([
      'allowedRoles',
      'createdAt',
      'description',
      'name',
      'updatedAt',
      'version',
    ]);
    for (const answer of answers) {
      expect(answer.text).not.toContain(first);
      expect(answer.text).not.toContain(second);
    }
    expect(auditOfSecret.body.items.map((r) => r.action)).toEqual(['secret.update', 'secret.create']);
    // The platform's own output (stdout and stderr of the platform process) never holds a value.
    expect(await statusOf('GET', '/me', { apiKey: 'mk_garbage' })).toBe(401);
    const logs = await eventually(() => {
      const text = readFileSync(inject('platformLogFile'), 'utf8');
      expect(text, 'the log file receives handler logs').toContain('Credential refused');
      return text;
    });
    expect(logs).not.toContain(first);
    expect(logs).not.toContain(second);
  });

  it('DELETE: 204, gone from the list, a second DELETE is 404', async () => {
    // Prepare
    const name = uniqueName('tmp');
    expect(await statusOf('PUT', `/secrets/${name}`, { token: admin, body: { value: 'v' } })).toBe(201);
    // Act
    const deleted = await call('DELETE', `/secrets/${name}`, { token: admin });
    const again = await call('DELETE', `/secrets/${name}`, { token: admin });
    // Assess
    expect(deleted.status, deleted.text).toBe(204);
    expectProblem(again, 404, 'not-found');
    const listed = await listAll<SecretView>('/secrets', { token: admin });
    expect(listed.map((s) => s.name)).not.toContain(name);
    // Re-created after deletion, it starts over at version 1.
    const recreated = await call<SecretView>('PUT', `/secrets/${name}`, {
      token: admin,
      body: { value: 'w' },
    });
    expect(recreated.status).toBe(201);
    expect(recreated.body.version).toBe(1);
  });
});

describe('audit trail', () => {
  const userAgent = `meridian-it/${randomBytes(4).toString('hex')}`;
  let tenant: TestTenant;
  let other: TestTenant;
  let admin: string;
  let platform: string;

  beforeAll(async () => {
    [tenant, other] = await Promise.all([createTenant('audit'), createTenant('audit-other')]);
    admin = await tenant.token();
    platform = await platformAdminToken();
  });

  /** Every record of the tenant, authentication events included. */
  const allRecords = (token: string): Promise<AuditRecord[]> => listAll<AuditRecord>('/audit', { token });
  /** The tenant's mutation records (authentication events, such as an API key's use, left out). */
  const records = async (token: string, query = ''): Promise<AuditRecord[]> =>
    (await listAll<AuditRecord>(`/audit${query}`, { token })).filter(
      (r) => r.action !== 'apikey.used' && r.action !== 'auth.denied',
    );

  it('each successful mutation writes exactly one record with actor, action, resource and request facts', async () => {
    // Prepare
    const role = uniqueName('audited');
    const team = uniqueName('audited-team');
    const secret = uniqueName('audited-secret');
    const ids: Record<string, string> = {};
    const keyForSecrets = await createApiKey(admin, ['secrets:write']);
    ids.setupKey = keyForSecrets.keyId;
    const idOf = (body: unknown, field: string): string => String((body as Record<string, unknown>)[field]);
    interface Step {
      name: string;
      method: string;
      path: () => string;
      body?: () => unknown;
      as?: () => CallOptions;
      expect: {
        action: string;
        resourceType: string;
        resourceId: () => string;
        actor: () => Record<string, unknown>;
      };
      remember?: (body: unknown) => void;
    }
    const asAdmin = (): Record<string, unknown> => ({ id: tenant.adminUserId, type: 'user' });
    const steps: Step[] = [
      {
        name: 'rename the tenant (platform operator)',
        method: 'PATCH',
        path: () => `/tenants/${tenant.tenantId}`,
        body: () => ({ name: uniqueName('audit-renamed') }),
        as: () => ({ token: platform }),
        expect: {
          action: 'tenant.update',
          resourceType: 'tenant',
          resourceId: () => tenant.tenantId,
          actor: () => ({ id: expect.any(String), type: 'platform' }),
        },
      },
      {
        name: 'create a role',
        method: 'POST',
        path: () => '/roles',
        body: () => ({ name: role, permissions: ['agents:read'] }),
        expect: { action: 'role.create', resourceType: 'role', resourceId: () => role, actor: asAdmin },
      },
      {
        name: 'update the role',
        method: 'PUT',
        path: () => `/roles/${role}`,
        body: () => ({ permissions: ['agents:read', 'tools:read'] }),
        expect: { action: 'role.update', resourceType: 'role', resourceId: () => role, actor: asAdmin },
      },
      {
        name: 'invite a user',
        method: 'POST',
        path: () => '/users',
        body: () => ({ email: uniqueEmail('audited'), roles: ['viewer'] }),
        remember: (body) => {
          ids.user = idOf(body, 'userId');
        },
        expect: {
          action: 'user.invite',
          resourceType: 'user',
          resourceId: () => ids.user ?? '',
          actor: asAdmin,
        },
      },
      {
        name: "change the user's roles",
        method: 'PATCH',
        path: () => `/users/${ids.user}`,
        body: () => ({ roles: ['viewer', role] }),
        expect: {
          action: 'user.update',
          resourceType: 'user',
          resourceId: () => ids.user ?? '',
          actor: asAdmin,
        },
      },
      {
        name: 'disable the user',
        method: 'PATCH',
        path: () => `/users/${ids.user}`,
        body: () => ({ status: 'disabled' }),
        expect: {
          action: 'user.disable',
          resourceType: 'user',
          resourceId: () => ids.user ?? '',
          actor: asAdmin,
        },
      },
      {
        name: 'enable the user',
        method: 'PATCH',
        path: () => `/users/${ids.user}`,
        body: () => ({ status: 'active' }),
        expect: {
          action: 'user.enable',
          resourceType: 'user',
          resourceId: () => ids.user ?? '',
          actor: asAdmin,
        },
      },
      {
        name: 'create a team with the user',
        method: 'POST',
        path: () => '/teams',
        body: () => ({ name: team, members: [ids.user] }),
        remember: (body) => {
          ids.team = idOf(body, 'teamId');
        },
        expect: {
          action: 'team.create',
          resourceType: 'team',
          resourceId: () => ids.team ?? '',
          actor: asAdmin,
        },
      },
      {
        name: 'rename the team',
        method: 'PATCH',
        path: () => `/teams/${ids.team}`,
        body: () => ({ name: uniqueName('audited-team2'), members: [] }),
        expect: {
          action: 'team.update',
          resourceType: 'team',
          resourceId: () => ids.team ?? '',
          actor: asAdmin,
        },
      },
      {
        name: 'delete the team',
        method: 'DELETE',
        path: () => `/teams/${ids.team}`,
        expect: {
          action: 'team.delete',
          resourceType: 'team',
          resourceId: () => ids.team ?? '',
          actor: asAdmin,
        },
      },
      {
        name: 'create an API key',
        method: 'POST',
        path: () => '/api-keys',
        body: () => ({ name: uniqueName('audited-key'), scopes: ['usage:read'], expiresAt: inAYear() }),
        remember: (body) => {
          ids.key = idOf(body, 'keyId');
        },
        expect: {
          action: 'apikey.create',
          resourceType: 'apikey',
          resourceId: () => ids.key ?? '',
          actor: asAdmin,
        },
      },
      {
        name: 'rotate the API key',
        method: 'POST',
        path: () => `/api-keys/${ids.key}/rotate`,
        body: () => ({ gracePeriodSeconds: 0 }),
        expect: {
          action: 'apikey.rotate',
          resourceType: 'apikey',
          resourceId: () => ids.key ?? '',
          actor: asAdmin,
        },
      },
      {
        name: 'revoke the API key',
        method: 'DELETE',
        path: () => `/api-keys/${ids.key}`,
        expect: {
          action: 'apikey.revoke',
          resourceType: 'apikey',
          resourceId: () => ids.key ?? '',
          actor: asAdmin,
        },
      },
      {
        name: 'create a secret with an API key',
        method: 'PUT',
        path: () => `/secrets/${secret}`,
        body: () => ({ value: 'audited-value-1' }),
        as: () => ({ apiKey: keyForSecrets.key }),
        expect: {
          action: 'secret.create',
          resourceType: 'secret',
          resourceId: () => secret,
          actor: () => ({ id: keyForSecrets.keyId, type: 'apikey' }),
        },
      },
      {
        name: 'replace the secret',
        method: 'PUT',
        path: () => `/secrets/${secret}`,
        body: () => ({ value: 'audited-value-2' }),
        expect: { action: 'secret.update', resourceType: 'secret', resourceId: () => secret, actor: asAdmin },
      },
      {
        name: 'delete the secret',
        method: 'DELETE',
        path: () => `/secrets/${secret}`,
        expect: { action: 'secret.delete', resourceType: 'secret', resourceId: () => secret, actor: asAdmin },
      },
      {
        name: 'delete the user',
        method: 'DELETE',
        path: () => `/users/${ids.user}`,
        expect: {
          action: 'user.delete',
          resourceType: 'user',
          resourceId: () => ids.user ?? '',
          actor: asAdmin,
        },
      },
      {
        name: 'delete the role',
        method: 'DELETE',
        path: () => `/roles/${role}`,
        expect: { action: 'role.delete', resourceType: 'role', resourceId: () => role, actor: asAdmin },
      },
    ];
    for (const step of steps) {
      const before = await records(admin);
      const startedAt = new Date(Date.now() - 1_000).toISOString();
      // Act
      const body = step.body?.();
      const response = await call(step.method, step.path(), {
        ...(step.as?.() ?? { token: admin }),
        headers: { 'user-agent': userAgent },
        ...(body === undefined ? {} : { body }),
      });
      // Assess
      expect(response.status, `${step.name}: ${response.text}`).toBeLessThan(300);
      step.remember?.(response.body);
      const after = await records(admin);
      expect(after.length, `${step.name}: records`).toBe(before.length + 1);
      const [newest] = after;
      expect(newest, step.name).toMatchObject({
        action: step.expect.action,
        resourceType: step.expect.resourceType,
        resourceId: step.expect.resourceId(),
        actor: step.expect.actor(),
        requestId: response.headers.get('apigw-requestid'),
        userAgent,
        sourceIp: expect.stringMatching(/^(127\.0\.0\.1|::1)$/),
      });
      expect(newest?.at && newest.at >= startedAt, `${step.name}: at`).toBe(true);
      expect(newest?.id && newest.id > (before[0]?.id ?? ''), `${step.name}: id after the previous`).toBe(
        true,
      );
    }
    const verdict = await call<Verdict>('GET', '/audit/verify', { token: admin });
    expect(verdict.body).toMatchObject({ ok: true });
  });

  it('a failed mutation writes no record', async () => {
    // Prepare
    const role = await createRole(admin, 'once', ['agents:read']);
    const viewer = await inviteUser(admin, uniqueEmail('audit-viewer'), ['viewer']);
    const before = await records(admin);
    // Act
    const failures = [
      await call('POST', '/roles', { token: admin, body: { name: role, permissions: ['agents:read'] } }),
      await call('POST', '/roles', { token: admin, body: { name: uniqueName('x'), permissions: ['nope'] } }),
      await call('DELETE', '/roles/no-such-role', { token: admin }),
      await call('DELETE', `/roles/${role}`, { token: await viewer.token() }),
      await call('PUT', '/roles/admin', { token: admin, body: { permissions: ['agents:read'] } }),
      await call('PATCH', `/users/${tenant.adminUserId}`, { token: admin, body: { roles: ['viewer'] } }),
    ];
    // Assess
    expect(failures.map((f) => f.status)).toEqual([409, 400, 404, 403, 403, 403]);
    const after = await records(admin);
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
  });

  it('filters: actor, action, resource, from and to', async () => {
    // Prepare
    const all = await records(admin);
    expect(all.length).toBeGreaterThan(10);
    const [, middle, , , , , older] = all;
    const from = older?.at ?? '';
    const to = middle?.at ?? '';
    const key = all.find((r) => r.actor.type === 'apikey');
    const user = all.find((r) => r.action === 'user.delete');
    // Act
    const byActor = await records(admin, `?actor=${key?.actor.id}`);
    const byAction = await records(admin, '?action=role.create');
    const byResourceId = await records(admin, `?resource=${user?.resourceId}`);
    const byResourceType = await records(admin, '?resource=secret');
    const byTime = await records(admin, `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    const badTime = await call('GET', '/audit?from=yesterday', { token: admin });
    // Assess
    const seqs = (list: AuditRecord[]): string[] => list.map((r) => r.id);
    expect(byActor.length).toBeGreaterThan(0);
    expect(seqs(byActor)).toEqual(seqs(all.filter((r) => r.actor.id === key?.actor.id)));
    expect(byAction.length).toBeGreaterThan(1);
    expect(seqs(byAction)).toEqual(seqs(all.filter((r) => r.action === 'role.create')));
    expect(seqs(byResourceId)).toEqual(seqs(all.filter((r) => r.resourceId === user?.resourceId)));
    expect(byResourceId.map((r) => r.action)).toEqual(
      expect.arrayContaining(['user.invite', 'user.disable', 'user.enable', 'user.delete']),
    );
    expect(seqs(byResourceType)).toEqual(seqs(all.filter((r) => r.resourceType === 'secret')));
    expect(byTime.length).toBeGreaterThanOrEqual(5);
    expect(seqs(byTime)).toEqual(seqs(all.filter((r) => r.at >= from && r.at <= to)));
    expectProblem(badTime, 400, 'validation-error');
  });

  it('pages with limit and nextCursor: every record once, newest first', async () => {
    // Prepare
    const all = await allRecords(admin);
    // Act
    const pages: AuditRecord[][] = [];
    let cursor: string | undefined;
    do {
      const page = await call<Page<AuditRecord>>(
        'GET',
        `/audit?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: admin },
      );
      expect(page.status, page.text).toBe(200);
      pages.push(page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor && pages.length < 100);
    // Assess
    expect(pages.length).toBeGreaterThan(2);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(4);
    const paged = pages.flat().map((r) => r.id);
    expect(paged).toEqual(all.map((r) => r.id));
    expect(paged).toEqual([...paged].sort().reverse());
  });

  it("a cursor of tenant A's audit is refused to tenant B, and on another list (400)", async () => {
    // Prepare
    const first = await call<Page<AuditRecord>>('GET', '/audit?limit=1', { token: admin });
    const cursor = first.body.nextCursor ?? '';
    expect(cursor).not.toBe('');
    // Act
    const otherTenant = await call('GET', `/audit?limit=1&cursor=${encodeURIComponent(cursor)}`, {
      token: await other.token(),
    });
    const otherList = await call('GET', `/users?limit=1&cursor=${encodeURIComponent(cursor)}`, {
      token: admin,
    });
    const sameTenant = await call('GET', `/audit?limit=1&cursor=${encodeURIComponent(cursor)}`, {
      token: admin,
    });
    // Assess
    expectProblem(otherTenant, 400, 'validation-error');
    expect(errorPaths(otherTenant)).toEqual(['query.cursor']);
    expectProblem(otherList, 400, 'validation-error');
    expect(sameTenant.status).toBe(200);
  });

  it('GET /audit/verify is ok on an intact chain', async () => {
    // Prepare
    const all = await allRecords(admin);
    // Act
    const verdict = await call<Verdict>('GET', '/audit/verify', { token: admin });
    // Assess
    expect(verdict.status, verdict.text).toBe(200);
    expect(verdict.body.ok).toBe(true);
    expect(verdict.body.digested + verdict.body.undigested).toBe(all.length);
  });
});

describe('audit trail: tampering in DynamoDB is detected', () => {
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: inject('dynamodbEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  const TableName = LOCAL_NAMES.tableName;
  afterAll(() => db.destroy());

  /** A fresh tenant with five audit records (tenant.create and four renames), oldest first. */
  async function fiveRecords(): Promise<{ tenant: TestTenant; ids: string[] }> {
    const tenant = await createTenant('tamper');
    const platform = await platformAdminToken();
    for (let i = 0; i < 4; i++) {
      const renamed = await call('PATCH', `/tenants/${tenant.tenantId}`, {
        token: platform,
        body: { name: uniqueName('tamper') },
      });
      expect(renamed.status, renamed.text).toBe(200);
    }
    const verdict = await call<Verdict>('GET', '/audit/verify', { token: await tenant.token() });
    expect(verdict.body.ok).toBe(true);
    expect(verdict.body.digested + verdict.body.undigested).toBe(5);
    const list = await call<Page<AuditRecord>>('GET', '/audit?limit=10', { token: await tenant.token() });
    return { tenant, ids: list.body.items.map((r) => r.id).reverse() };
  }

  async function item(tenantId: string, id: string): Promise<Record<string, unknown>> {
    const out = await db.send(new GetCommand({ TableName, Key: keys.auditRecord(tenantId, id) }));
    if (!out.Item) throw new Error(`no audit record ${id} of ${tenantId}`);
    return out.Item;
  }

  async function verify(tenant: TestTenant): Promise<Verdict> {
    const verdict = await call<Verdict>('GET', '/audit/verify', { token: await tenant.token() });
    expect(verdict.status, verdict.text).toBe(200);
    return verdict.body;
  }

  it("modifying one record's action is named by that record's id", async () => {
    // Prepare
    const { tenant, ids } = await fiveRecords();
    const id = ids[2] ?? '';
    const record = await item(tenant.tenantId, id);
    // Act
    await db.send(new PutCommand({ TableName, Item: { ...record, action: 'tenant.nothing-happened' } }));
    // Assess
    const verdict = await verify(tenant);
    expect(verdict.ok).toBe(false);
    expect(verdict.firstDivergence).toMatchObject({ kind: 'record-altered', recordId: id });
  });
});
