/**
 * The role use cases as they stand: built-ins listed first and read-only, no granting of permissions
 * the caller lacks, sorted unique permissions, 409 while users hold a role, 404 for unknown roles,
 * and the audit record of each write.
 */
import { describe, expect, it, vi } from 'vitest';
import { BUILT_IN_ROLES, PERMISSIONS, type Permission } from '#core/access/permissions.ts';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '#core/errors.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import type { Caller } from '#core/tenancy/context.ts';
import type { Page, Role, User } from '#core/tenancy/model.ts';
import {
  assertCanGrant,
  createRole,
  deleteRole,
  getRole,
  listRoles,
  permissionsOfExistingRoles,
  updateRole,
} from '#core/tenancy/roles.ts';
import { fakeRoles, fakeUsers } from '../../helpers/tenancy-stores.ts';

const T = 'tabcdefghijklmnop';
const NOW = '2026-11-29T12:00:00.000Z';
const META: RequestMeta = { requestId: 'req-1', sourceIp: '10.0.0.1', userAgent: 'unit', now: NOW };

function caller(permissions: readonly Permission[] = PERMISSIONS): Caller {
  const principal: TenantPrincipal = {
    kind: 'tenant',
    tenantId: T,
    principalId: 'admin-sub',
    principalType: 'user',
    roles: ['admin'],
    permissions: new Set(permissions),
  };
  return { principal, meta: META };
}

const OPS: Role = {
  name: 'ops',
  description: 'on call',
  permissions: ['executions:cancel'],
  builtIn: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

function holder(i: number, roles: string[]): User {
  return {
    userId: `u${i}`,
    tenantId: T,
    email: `u${i}@x.io`,
    roles,
    teams: [],
    status: 'active',
    createdAt: '',
    updatedAt: '',
  };
}

function fakeStore(roles: Role[] = [OPS], users: User[] = []) {
  const writes: Array<{ op: string; args: unknown[]; audit: AuditContext }> = [];
  const spies = {
    listRoles: vi.fn(async (): Promise<Page<Role>> => ({ items: roles, nextCursor: 'next' })),
    getRole: vi.fn(async (_t: string, name: string) => roles.find((r) => r.name === name)),
    getRoles: vi.fn(async (_t: string, names: readonly string[]) =>
      roles.filter((r) => names.includes(r.name)),
    ),
    // Two pages, so a holder on the second page counts too.
    listUsers: vi.fn(async (_t: string, page: { cursor?: string }) =>
      page.cursor
        ? { items: users.slice(1) }
        : { items: users.slice(0, 1), ...(users.length > 1 ? { nextCursor: 'p2' } : {}) },
    ),
    createRole: vi.fn(async (_t: string, role: Role, audit: AuditContext) => {
      writes.push({ op: 'create', args: [_t, role], audit });
    }),
    updateRole: vi.fn(async (_t: string, next: Role, previous: Role, audit: AuditContext) => {
      writes.push({ op: 'update', args: [_t, next, previous], audit });
    }),
    deleteRole: vi.fn(async (_t: string, role: Role, audit: AuditContext) => {
      writes.push({ op: 'delete', args: [_t, role], audit });
    }),
  };
  const { listUsers, ...roleSpies } = spies;
  return { store: { ...fakeRoles(roleSpies), ...fakeUsers({ listUsers }) }, spies, writes };
}

const audit = (draft: AuditContext['draft']): AuditContext => ({
  tenantId: T,
  actor: { id: 'admin-sub', type: 'user' },
  meta: META,
  draft,
});

describe('listRoles and getRole', () => {
  it('lists the built-in roles first on page one only, each with its permissions', async () => {
    // Prepare
    const { store } = fakeStore();
    // Act
    const first = await listRoles(store, T, { limit: 10 });
    const later = await listRoles(store, T, { limit: 10, cursor: 'next' });
    // Assess
    expect(first.items.map((r) => r.name)).toEqual([
      'admin',
      'developer',
      'operator',
      'viewer',
      'auditor',
      'ops',
    ]);
    expect(first.items[3]).toEqual({ name: 'viewer', permissions: BUILT_IN_ROLES.viewer, builtIn: true });
    expect(first.nextCursor).toBe('next');
    expect(later.items).toEqual([OPS]);
  });

  it('gets a built-in role without the store, a custom one from it, and 404 for neither', async () => {
    // Prepare
    const { store, spies } = fakeStore();
    // Act
    const builtIn = await getRole(store, T, 'auditor');
    const custom = await getRole(store, T, 'ops');
    const missing = getRole(store, T, 'ghost');
    // Assess
    expect(builtIn).toEqual({ name: 'auditor', permissions: BUILT_IN_ROLES.auditor, builtIn: true });
    expect(custom).toEqual(OPS);
    await expect(missing).rejects.toThrow(new NotFoundError('No role ghost.'));
    expect(spies.getRole).toHaveBeenCalledTimes(2);
  });
});

describe('granting', () => {
  it('refuses permissions the caller does not hold, naming them', () => {
    expect(() => assertCanGrant(caller(['agents:read']), ['agents:read'])).not.toThrow();
    expect(() =>
      assertCanGrant(caller(['agents:read']), ['agents:read', 'secrets:write', 'audit:read']),
    ).toThrow(new ForbiddenError('You cannot grant permissions you do not hold: secrets:write, audit:read.'));
  });

  it('unions existing roles’ permissions and names each unknown role by its position', async () => {
    // Prepare
    const { store, spies } = fakeStore();
    // Act
    const union = await permissionsOfExistingRoles(store, T, ['viewer', 'ops'], 'roles');
    const asked = spies.getRoles.mock.calls[0];
    const unknown = permissionsOfExistingRoles(store, T, ['ops', 'ghost', 'viewer', 'nope'], 'roles');
    // Assess
    expect([...union].sort()).toEqual([...(BUILT_IN_ROLES.viewer ?? []), 'executions:cancel'].sort());
    expect(asked).toEqual([T, ['ops']]);
    await expect(unknown).rejects.toBeInstanceOf(ValidationError);
    await expect(unknown).rejects.toMatchObject({
      message: 'Unknown role.',
      problems: [
        { path: 'roles.1', message: 'unknown role ghost' },
        { path: 'roles.3', message: 'unknown role nope' },
      ],
    });
  });
});

describe('createRole', () => {
  it('stores sorted unique permissions with the time, and audits', async () => {
    // Prepare
    const { store, writes } = fakeStore();
    // Act
    const role = await createRole(store, caller(), {
      name: 'release',
      description: 'ships',
      permissions: ['workflows:promote', 'agents:read', 'workflows:promote'],
    });
    // Assess
    const expected: Role = {
      name: 'release',
      description: 'ships',
      permissions: ['agents:read', 'workflows:promote'],
      builtIn: false,
      createdAt: NOW,
      updatedAt: NOW,
    };
    expect(role).toEqual(expected);
    expect(writes).toEqual([
      {
        op: 'create',
        args: [T, expected],
        audit: audit({ action: 'role.create', resourceType: 'role', resourceId: 'release', after: expected }),
      },
    ]);
  });

  it('omits an empty description', async () => {
    // Prepare
    const { store } = fakeStore();
    // Act
    const role = await createRole(store, caller(), { name: 'r', description: '', permissions: [] });
    // Assess
    expect(Object.hasOwn(role, 'description')).toBe(false);
  });

  it('refuses a built-in name with 409 on the name, and permissions the caller lacks with 403', async () => {
    // Prepare
    const { store, writes } = fakeStore();
    // Act
    const builtIn = createRole(store, caller(), { name: 'viewer', permissions: [] });
    const escalation = createRole(store, caller(['agents:read']), {
      name: 'r',
      permissions: ['secrets:write'],
    });
    // Assess
    await expect(builtIn).rejects.toThrow('viewer is a built-in role.');
    await expect(builtIn).rejects.toMatchObject({
      problems: [{ path: 'name', message: 'reserved for a built-in role' }],
    });
    await expect(escalation).rejects.toBeInstanceOf(ForbiddenError);
    expect(writes).toEqual([]);
  });
});

describe('updateRole', () => {
  it('replaces permissions, keeps the description unless given, and audits before and after', async () => {
    // Prepare
    const { store, writes } = fakeStore();
    // Act
    const next = await updateRole(store, caller(), 'ops', { permissions: ['usage:read', 'agents:read'] });
    const renamed = await updateRole(store, caller(), 'ops', { description: '', permissions: [] });
    // Assess
    const expected: Role = { ...OPS, permissions: ['agents:read', 'usage:read'], updatedAt: NOW };
    expect(next).toEqual(expected);
    expect(renamed.description).toBe('');
    expect(writes[0]).toEqual({
      op: 'update',
      args: [T, expected, OPS],
      audit: audit({
        action: 'role.update',
        resourceType: 'role',
        resourceId: 'ops',
        before: OPS,
        after: expected,
      }),
    });
  });

  it('refuses built-in roles, unknown roles and escalation', async () => {
    // Prepare
    const { store, writes } = fakeStore();
    // Act and assess
    await expect(updateRole(store, caller(), 'admin', { permissions: [] })).rejects.toThrow(
      new ForbiddenError('The built-in role admin is read-only.'),
    );
    await expect(updateRole(store, caller(), 'ghost', { permissions: [] })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(
      updateRole(store, caller(['agents:read']), 'ops', { permissions: ['secrets:write'] }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect(writes).toEqual([]);
  });
});

describe('deleteRole', () => {
  it('deletes an unheld custom role with an audit record', async () => {
    // Prepare
    const { store, writes } = fakeStore([OPS], [holder(1, ['viewer'])]);
    // Act
    await deleteRole(store, caller(), 'ops');
    // Assess
    expect(writes).toEqual([
      {
        op: 'delete',
        args: [T, OPS],
        audit: audit({ action: 'role.delete', resourceType: 'role', resourceId: 'ops', before: OPS }),
      },
    ]);
  });

  it('refuses with 409 while users hold it, naming them across pages', async () => {
    // Prepare
    const { store, writes } = fakeStore(
      [OPS],
      [holder(1, ['ops']), holder(2, ['viewer']), holder(3, ['ops'])],
    );
    // Act
    const attempt = deleteRole(store, caller(), 'ops');
    // Assess
    await expect(attempt).rejects.toThrow(
      new ConflictError('The role ops is still assigned to 2 user(s): u1@x.io, u3@x.io.'),
    );
    expect(writes).toEqual([]);
  });

  it('names at most ten holders', async () => {
    // Prepare
    const users = Array.from({ length: 12 }, (_, i) => holder(i, ['ops']));
    const { store } = fakeStore([OPS], users);
    // Act
    const attempt = deleteRole(store, caller(), 'ops');
    // Assess
    await expect(attempt).rejects.toThrow(
      `The role ops is still assigned to 12 user(s): ${users
        .slice(0, 10)
        .map((u) => u.email)
        .join(', ')}.`,
    );
  });

  it('refuses built-in and unknown roles', async () => {
    // Prepare
    const { store } = fakeStore();
    // Act and assess
    await expect(deleteRole(store, caller(), 'viewer')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(deleteRole(store, caller(), 'ghost')).rejects.toBeInstanceOf(NotFoundError);
  });
});
