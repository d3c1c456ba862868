import { beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLES } from '#core/access/permissions.ts';
import { call } from '../../helpers/api.ts';
import {
  authCacheTimeoutMs,
  createRole,
  createTenant,
  eventually,
  inviteUser,
  type TestTenant,
  uniqueEmail,
} from '../../helpers/tenants.ts';
import { errorPaths, expectProblem, listAll, meBecomes, statusOf, type UserView } from './helpers.ts';

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
