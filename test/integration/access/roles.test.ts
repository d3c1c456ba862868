import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../helpers/api.ts';
import {
  authCacheTimeoutMs,
  createRole,
  createTenant,
  eventually,
  inviteUser,
  type TestTenant,
  uniqueEmail,
  uniqueName,
} from '../../helpers/tenants.ts';
import {
  CONTRACT_PERMISSIONS,
  errorPaths,
  expectProblem,
  type Me,
  type Page,
  type RoleView,
  statusOf,
  type UserView,
} from './helpers.ts';

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
