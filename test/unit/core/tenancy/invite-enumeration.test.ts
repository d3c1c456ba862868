import { describe, expect, it, vi } from 'vitest';
import { PERMISSIONS } from '#core/access/permissions.ts';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError } from '#core/errors.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import type { User } from '#core/tenancy/model.ts';
import type { IdentityDirectory } from '#core/tenancy/ports.ts';
import { deleteUser, inviteUser, listUsers, updateUser } from '#core/tenancy/users.ts';
import { fakeUserStores } from '../../../helpers/tenancy-stores.ts';

/**
 * an email with a login elsewhere is invited like a new one; the record made for
 * it never reveals that, and never lets this tenant touch the other login.
 */

const T = 'tabcdefghijklmnop';
const META: RequestMeta = {
  requestId: 'r',
  sourceIp: '10.0.0.1',
  userAgent: 'unit',
  now: '2026-11-22T00:00:00.000Z',
};
const ADMIN: TenantPrincipal = {
  kind: 'tenant',
  tenantId: T,
  principalId: 'admin-sub',
  principalType: 'user',
  roles: ['admin'],
  permissions: new Set(PERMISSIONS),
};
const caller = { principal: ADMIN, meta: META };

function fakes(options: { exists: boolean; storeFails?: boolean }) {
  const users = new Map<string, User>();
  const audits: AuditContext[] = [];
  const store = fakeUserStores({
    getRoles: async () => [],
    getTeam: async () => undefined,
    getUser: async (_t: string, id: string) => users.get(id),
    listUsers: async () => ({ items: [...users.values()] }),
    listApiKeys: async () => ({ items: [] }),
    createUser: vi.fn(async (user: User, audit: AuditContext) => {
      if (options.storeFails) throw new Error('store down');
      users.set(user.userId, user);
      audits.push(audit);
    }),
    updateUser: async (next: User, _p: User, audit: AuditContext) => {
      users.set(next.userId, next);
      audits.push(audit);
    },
    deleteUser: async (user: User, audit: AuditContext) => {
      users.delete(user.userId);
      audits.push(audit);
    },
  });
  const directory = {
    createUser: vi.fn(async () => {
      if (options.exists)
        throw new ConflictError('A user with this email already exists.', [
          { path: 'email', message: 'in use' },
        ]);
      return { sub: '0b5c2f1e-1111-4222-8333-944445555666' };
    }),
    disableUser: vi.fn(async () => undefined),
    enableUser: vi.fn(async () => undefined),
    deleteUser: vi.fn(async () => undefined),
  };
  return { store, directory, deps: { store, directory: directory as IdentityDirectory }, users, audits };
}

const input = { email: 'Someone@Elsewhere.example', roles: ['viewer'] };

describe('inviting an email that has a login elsewhere', () => {
  it('answers like a new address, with an id of the same shape, and records the user', async () => {
    // Prepare
    const existing = fakes({ exists: true });
    const fresh = fakes({ exists: false });
    // Act
    const ghost = await inviteUser(existing.deps, caller, input);
    const made = await inviteUser(fresh.deps, caller, input);
    // Assess
    expect(Object.keys(ghost).sort()).toEqual(Object.keys(made).sort());
    expect(ghost.userId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(ghost).toMatchObject({ email: 'someone@elsewhere.example', status: 'active' });
    expect(existing.users.get(ghost.userId)?.noLogin).toBe(true);
    expect(fresh.users.get(made.userId)?.noLogin).toBeUndefined();
    expect(existing.audits[0]?.draft.after).not.toHaveProperty('noLogin');
  });

  it('never shows noLogin in lists, updates or audit records', async () => {
    // Prepare
    const f = fakes({ exists: true });
    const ghost = await inviteUser(f.deps, caller, input);
    // Act
    const listed = await listUsers(f.deps, T, { limit: 10 });
    const updated = await updateUser(f.deps, caller, ghost.userId, { roles: ['operator'] });
    // Assess
    expect(listed.items[0]).not.toHaveProperty('noLogin');
    expect(updated).not.toHaveProperty('noLogin');
    expect(f.audits[1]?.draft.before).not.toHaveProperty('noLogin');
    expect(f.audits[1]?.draft.after).not.toHaveProperty('noLogin');
  });

  it('disabling, enabling and deleting such a user never touch the other login', async () => {
    // Prepare
    const f = fakes({ exists: true });
    const ghost = await inviteUser(f.deps, caller, input);
    // Act
    await updateUser(f.deps, caller, ghost.userId, { status: 'disabled' });
    await updateUser(f.deps, caller, ghost.userId, { status: 'active' });
    await deleteUser(f.deps, caller, ghost.userId);
    // Assess
    expect(f.directory.disableUser).not.toHaveBeenCalled();
    expect(f.directory.enableUser).not.toHaveBeenCalled();
    expect(f.directory.deleteUser).not.toHaveBeenCalled();
    expect(f.users.size).toBe(0);
  });

  it('when the store write fails, the other login is not deleted; a login made by the call is', async () => {
    // Prepare
    const existing = fakes({ exists: true, storeFails: true });
    const fresh = fakes({ exists: false, storeFails: true });
    // Act
    const a = inviteUser(existing.deps, caller, input);
    const b = inviteUser(fresh.deps, caller, input);
    // Assess
    await expect(a).rejects.toThrow('store down');
    await expect(b).rejects.toThrow('store down');
    expect(existing.directory.deleteUser).not.toHaveBeenCalled();
    expect(fresh.directory.deleteUser).toHaveBeenCalledWith('someone@elsewhere.example');
  });

  it('other directory failures still fail the invitation', async () => {
    // Prepare
    const f = fakes({ exists: false });
    f.directory.createUser.mockRejectedValueOnce(new Error('cognito down'));
    // Act
    const result = inviteUser(f.deps, caller, input);
    // Assess
    await expect(result).rejects.toThrow('cognito down');
    expect(f.store.createUser).not.toHaveBeenCalled();
  });
});
