import { describe, expect, it } from 'vitest';
import { BUILT_IN_ROLES, type Permission } from '#core/access/permissions.ts';
import { ForbiddenError } from '#core/errors.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import type { Role, User } from '#core/tenancy/model.ts';
import type { IdentityDirectory } from '#core/tenancy/ports.ts';
import { deleteUser, updateUser } from '#core/tenancy/users.ts';
import { fakeUserStores } from '../../../helpers/tenancy-stores.ts';

/**
 * The rule of functions/core/tenancy/users.ts `assertOutranks`: a `users:manage` holder manages
 * only users whose permissions they all hold themselves. Changing the roles or the status of a user
 * who holds more, or deleting them, is 403 and touches neither the store nor the directory; the same
 * holder manages a user whose permissions they hold.
 */

const T = 'tabcdefghijklmnop';
const META: RequestMeta = {
  requestId: 'req-1',
  sourceIp: '10.0.0.1',
  userAgent: 'unit',
  now: '2026-11-22T00:00:00.000Z',
};

/** A user manager: everything a developer holds, plus users:manage. */
const MANAGER: TenantPrincipal = {
  kind: 'tenant',
  tenantId: T,
  principalId: 'manager-sub',
  principalType: 'user',
  roles: ['developer', 'user-manager'],
  permissions: new Set<Permission>([...(BUILT_IN_ROLES.developer ?? []), 'users:manage']),
};
const caller = { principal: MANAGER, meta: META };

/** A custom role holding one permission the manager lacks. */
const RELEASE_MANAGER: Role = { name: 'release-manager', permissions: ['workflows:promote'], builtIn: false };

function user(userId: string, roles: string[]): User {
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

/** Fake ports around one stored `target`; every write is recorded. */
function fakes(target: User) {
  const writes: string[] = [];
  const store = fakeUserStores({
    getUser: async (_tenantId: string, userId: string) => (userId === target.userId ? target : undefined),
    getRoles: async (_tenantId: string, names: readonly string[]) =>
      names.includes(RELEASE_MANAGER.name) ? [RELEASE_MANAGER] : [],
    getTeam: async (_tenantId: string, teamId: string) => ({
      teamId,
      name: teamId,
      createdAt: '',
      updatedAt: '',
    }),
    listApiKeys: async () => ({ items: [] }),
    updateUser: async () => {
      writes.push('store.updateUser');
    },
    deleteUser: async () => {
      writes.push('store.deleteUser');
    },
  });
  const directory = {
    disableUser: async () => {
      writes.push('directory.disableUser');
    },
    enableUser: async () => {
      writes.push('directory.enableUser');
    },
    deleteUser: async () => {
      writes.push('directory.deleteUser');
    },
  } as unknown as IdentityDirectory;
  return { deps: { store, directory }, writes };
}

describe('assertOutranks: nobody manages a user who holds permissions they lack', () => {
  const outranking: [string, string[]][] = [
    ['the built-in admin', ['admin']],
    ['a custom role with workflows:promote', ['viewer', RELEASE_MANAGER.name]],
  ];

  it.each(outranking)('changing the roles of %s is 403 and writes nothing', async (_label, roles) => {
    // Prepare
    const target = user('target-sub', roles);
    const { deps, writes } = fakes(target);
    // Act
    const result = updateUser(deps, caller, target.userId, { roles: ['viewer'] });
    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenError);
    await expect(result).rejects.toThrow(/holds permissions you do not/);
    expect(writes).toEqual([]);
  });

  it.each(outranking)('disabling %s is 403 and the login stays on', async (_label, roles) => {
    // Prepare
    const target = user('target-sub', roles);
    const { deps, writes } = fakes(target);
    // Act
    const result = updateUser(deps, caller, target.userId, { status: 'disabled' });
    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenError);
    expect(writes).toEqual([]);
  });

  it.each(outranking)('deleting %s is 403 and deletes nothing', async (_label, roles) => {
    // Prepare
    const target = user('target-sub', roles);
    const { deps, writes } = fakes(target);
    // Act
    const result = deleteUser(deps, caller, target.userId);
    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenError);
    expect(writes).toEqual([]);
  });

  it('the refusal names the permissions the caller lacks', async () => {
    // Prepare
    const target = user('target-sub', ['viewer', RELEASE_MANAGER.name]);
    const { deps } = fakes(target);
    // Act
    const result = deleteUser(deps, caller, target.userId);
    // Assess
    await expect(result).rejects.toThrow(/workflows:promote/);
  });

  it('a teams-only change of an outranking user is allowed (the rule guards roles, status and deletion)', async () => {
    // Prepare
    const target = user('target-sub', ['admin']);
    const { deps, writes } = fakes(target);
    // Act
    const updated = await updateUser(deps, caller, target.userId, { teams: ['team-ops'] });
    // Assess
    expect(updated.teams).toEqual(['team-ops']);
    expect(updated.roles).toEqual(['admin']);
    expect(writes).toEqual(['store.updateUser']);
  });
});

describe('assertOutranks: a user whose permissions the caller all holds can be managed', () => {
  it('changing a developer’s roles to viewer succeeds', async () => {
    // Prepare
    const target = user('dev-sub', ['developer']);
    const { deps, writes } = fakes(target);
    // Act
    const updated = await updateUser(deps, caller, target.userId, { roles: ['viewer'] });
    // Assess
    expect(updated.roles).toEqual(['viewer']);
    expect(writes).toEqual(['store.updateUser']);
  });

  it('disabling a viewer switches the login off, then writes the record', async () => {
    // Prepare
    const target = user('viewer-sub', ['viewer']);
    const { deps, writes } = fakes(target);
    // Act
    const updated = await updateUser(deps, caller, target.userId, { status: 'disabled' });
    // Assess
    expect(updated.status).toBe('disabled');
    expect(writes).toEqual(['directory.disableUser', 'store.updateUser']);
  });

  it('deleting a developer removes the record, then the login', async () => {
    // Prepare
    const target = user('dev-sub', ['developer']);
    const { deps, writes } = fakes(target);
    // Act
    await deleteUser(deps, caller, target.userId);
    // Assess
    expect(writes).toEqual(['store.deleteUser', 'directory.deleteUser']);
  });
});
