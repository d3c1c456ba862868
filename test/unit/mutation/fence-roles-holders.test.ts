/**
 * Rewriting a custom role (functions/core/tenancy/roles.ts): only the role's holders count towards
 * outranking, the new permissions are the caller's to grant, and a refusal names at most five
 * missing permissions.
 */
import { describe, expect, it, vi } from 'vitest';
import { PERMISSIONS, type Permission } from '#core/access/permissions.ts';
import { ForbiddenError } from '#core/errors.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import type { Caller } from '#core/tenancy/context.ts';
import type { Role, User } from '#core/tenancy/model.ts';
import { updateRole } from '#core/tenancy/roles.ts';
import { fakeRoles, fakeUsers } from '../../helpers/tenancy-stores.ts';

const T = 'tabcdefghijklmnop';
const META: RequestMeta = {
  requestId: 'r',
  sourceIp: '10.0.0.1',
  userAgent: 'unit',
  now: '2026-11-29T12:00:00.000Z',
};
const OPS: Role = { name: 'ops', permissions: ['executions:cancel'], builtIn: false };

function caller(permissions: readonly Permission[]): Caller {
  const principal: TenantPrincipal = {
    kind: 'tenant',
    tenantId: T,
    principalId: 'mgr',
    principalType: 'user',
    roles: [],
    permissions: new Set(permissions),
  };
  return { principal, meta: META };
}

const user = (userId: string, roles: string[]): User => ({
  userId,
  tenantId: T,
  email: `${userId}@x.io`,
  roles,
  teams: [],
  status: 'active',
  createdAt: '',
  updatedAt: '',
});

function store(users: User[]) {
  const updateRoleSpy = vi.fn(async () => undefined);
  const s = {
    ...fakeRoles({
      getRole: vi.fn(async (_t: string, name: string) => (name === OPS.name ? OPS : undefined)),
      getRoles: vi.fn(async (_t: string, names: readonly string[]) => (names.includes('ops') ? [OPS] : [])),
      updateRole: updateRoleSpy,
    }),
    ...fakeUsers({ listUsers: vi.fn(async () => ({ items: users })) }),
  };
  return { store: s, updateRoleSpy };
}

const MANAGER: Permission[] = ['roles:manage', 'executions:cancel', 'executions:read', 'agents:read'];

describe('updateRole', () => {
  it('ignores users who do not hold the role, however high they rank', async () => {
    // Prepare: the tenant admin does not hold ops; a viewer-like user does.
    const { store: s, updateRoleSpy } = store([user('boss', ['admin']), user('u1', ['ops'])]);
    // Act
    const role = await updateRole(s, caller(MANAGER), 'ops', { permissions: ['executions:read'] });
    // Assess
    expect(role.permissions).toEqual(['executions:read']);
    expect(updateRoleSpy).toHaveBeenCalledOnce();
  });

  it('refuses new permissions the caller does not hold, though they outrank every holder', async () => {
    // Prepare
    const { store: s, updateRoleSpy } = store([]);
    // Act
    const attempt = updateRole(s, caller(MANAGER), 'ops', { permissions: ['secrets:write'] });
    // Assess
    await expect(attempt).rejects.toThrow(
      new ForbiddenError('You cannot grant permissions you do not hold: secrets:write.'),
    );
    expect(updateRoleSpy).not.toHaveBeenCalled();
  });

  it('names at most five of the permissions a holder has and the caller lacks', async () => {
    // Prepare
    const { store: s } = store([user('boss', ['admin', 'ops'])]);
    const lacking = PERMISSIONS.filter((p) => !MANAGER.includes(p)).slice(0, 5);
    // Act
    const attempt = updateRole(s, caller(MANAGER), 'ops', { permissions: ['executions:cancel'] });
    // Assess
    await expect(attempt).rejects.toThrow(
      new ForbiddenError(
        `The role ops is held by someone with permissions you do not hold (${lacking.join(', ')}); ask an administrator.`,
      ),
    );
  });
});
