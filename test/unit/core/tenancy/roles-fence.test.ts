import { describe, expect, it, vi } from 'vitest';
import { BUILT_IN_ROLES, type Permission } from '#core/access/permissions.ts';
import { ConflictError, ForbiddenError } from '#core/errors.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import type { Role, User } from '#core/tenancy/model.ts';
import type { IdentityDirectory } from '#core/tenancy/ports.ts';
import { updateRole } from '#core/tenancy/roles.ts';
import { deleteUser, updateUser } from '#core/tenancy/users.ts';
import { fakeRoles, fakeUserStores, fakeUsers } from '../../../helpers/tenancy-stores.ts';

/**
 * `roles:manage` does not let anyone reshape a role held by someone who outranks
 * them, and the self-change guard holds through one's own API key.
 */

const T = 'tabcdefghijklmnop';
const META: RequestMeta = {
  requestId: 'r',
  sourceIp: '10.0.0.1',
  userAgent: 'unit',
  now: '2026-11-22T00:00:00.000Z',
};

/** Everything a developer holds, plus roles:manage and users:manage. */
const MANAGER_PERMISSIONS: Permission[] = [
  ...(BUILT_IN_ROLES.developer ?? []),
  'roles:manage',
  'users:manage',
];
const MANAGER: TenantPrincipal = {
  kind: 'tenant',
  tenantId: T,
  principalId: 'manager-sub',
  principalType: 'user',
  roles: ['developer', 'managers'],
  permissions: new Set(MANAGER_PERMISSIONS),
};

function person(userId: string, roles: string[]): User {
  return {
    userId,
    tenantId: T,
    email: `${userId}@example.com`,
    roles,
    teams: [],
    status: 'active',
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
  };
}

function storeWith(roles: Role[], users: User[]) {
  const updateRoleWrite = vi.fn(async () => undefined);
  const store = {
    ...fakeRoles({
      getRole: async (_t: string, name: string) => roles.find((r) => r.name === name),
      getRoles: async (_t: string, names: readonly string[]) => roles.filter((r) => names.includes(r.name)),
      updateRole: updateRoleWrite,
    }),
    ...fakeUsers({ listUsers: async () => ({ items: users }) }),
  };
  return { store, updateRoleWrite };
}

const helpers: Role = { name: 'helpers', permissions: ['workflows:read'], builtIn: false };

describe('updateRole: the caller must outrank the role and its holders', () => {
  it('refuses to rewrite a role held by the tenant admin, even to permissions the caller holds', async () => {
    // Prepare
    const { store, updateRoleWrite } = storeWith([helpers], [person('boss', ['admin', 'helpers'])]);
    // Act
    const result = updateRole(store, { principal: MANAGER, meta: META }, 'helpers', {
      permissions: ['workflows:read', 'workflows:write'],
    });
    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenError);
    await expect(result).rejects.toThrow(/held by someone with permissions you do not hold/);
    expect(updateRoleWrite).not.toHaveBeenCalled();
  });

  it('refuses to rewrite a role whose current permissions the caller lacks', async () => {
    // Prepare
    const release: Role = { name: 'release', permissions: ['workflows:promote'], builtIn: false };
    const { store, updateRoleWrite } = storeWith([release], []);
    // Act
    const result = updateRole(store, { principal: MANAGER, meta: META }, 'release', {
      permissions: ['workflows:read'],
    });
    // Assess
    await expect(result).rejects.toThrow(/workflows:promote/);
    expect(updateRoleWrite).not.toHaveBeenCalled();
  });

  it('rewrites a role whose holders the caller outranks', async () => {
    // Prepare
    const { store, updateRoleWrite } = storeWith([helpers], [person('junior', ['viewer', 'helpers'])]);
    // Act
    const role = await updateRole(store, { principal: MANAGER, meta: META }, 'helpers', {
      permissions: ['workflows:write'],
    });
    // Assess
    expect(role.permissions).toEqual(['workflows:write']);
    expect(updateRoleWrite).toHaveBeenCalledTimes(1);
  });
});

describe('the self-change guard applies to a key acting for its creator', () => {
  const viaOwnKey: TenantPrincipal = {
    ...MANAGER,
    principalId: 'kownkeyownkeyown',
    principalType: 'apikey',
    roles: [],
    onBehalfOf: 'manager-sub',
  };
  const deps = () => {
    const write = vi.fn(async () => undefined);
    const store = fakeUserStores({
      getUser: async () => person('manager-sub', ['developer']),
      getRoles: async () => [],
      updateUser: write,
      deleteUser: write,
      listApiKeys: async () => ({ items: [] }),
    });
    const directory = {
      disableUser: write,
      enableUser: write,
      deleteUser: write,
    } as unknown as IdentityDirectory;
    return { deps: { store, directory }, write };
  };

  it.each([
    ['roles', { roles: ['viewer'] }],
    ['status', { status: 'disabled' as const }],
  ])('changing one’s own %s through one’s own key is 403', async (_name, patch) => {
    // Prepare
    const { deps: d, write } = deps();
    // Act
    const result = updateUser(d, { principal: viaOwnKey, meta: META }, 'manager-sub', patch);
    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenError);
    expect(write).not.toHaveBeenCalled();
  });

  it('deleting oneself through one’s own key is refused', async () => {
    // Prepare
    const { deps: d, write } = deps();
    // Act
    const result = deleteUser(d, { principal: viaOwnKey, meta: META }, 'manager-sub');
    // Assess
    await expect(result).rejects.toBeInstanceOf(ConflictError);
    expect(write).not.toHaveBeenCalled();
  });
});
