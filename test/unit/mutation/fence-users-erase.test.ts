/**
 * Erasing a person (functions/core/tenancy/users.ts eraseUser): exactly what is kept, what goes,
 * who may do it, and that erasing twice or changing an erased person changes nothing.
 */
import { describe, expect, it, vi } from 'vitest';
import { PERMISSIONS } from '#core/access/permissions.ts';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError } from '#core/errors.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import type { Caller } from '#core/tenancy/context.ts';
import type { User } from '#core/tenancy/model.ts';
import type { IdentityDirectory } from '#core/tenancy/ports.ts';
import { eraseUser, updateUser } from '#core/tenancy/users.ts';
import { fakeUserStores } from '../../helpers/tenancy-stores.ts';

const T = 'tabcdefghijklmnop';
const NOW = '2026-11-30T02:00:00.000Z';
const META: RequestMeta = { requestId: 'req-1', sourceIp: '10.0.0.1', userAgent: 'unit', now: NOW };

function adminAs(userId: string): Caller {
  const principal: TenantPrincipal = {
    kind: 'tenant',
    tenantId: T,
    principalId: userId,
    principalType: 'user',
    roles: ['admin'],
    permissions: new Set(PERMISSIONS),
  };
  return { principal, meta: META };
}

const PERSON: User = {
  userId: 'u1',
  tenantId: T,
  email: 'person@x.io',
  roles: ['viewer'],
  teams: ['team-a'],
  status: 'active',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-02T00:00:00.000Z',
};

function setup(user: User) {
  const erased: Array<{ next: User; previous: User; audit: AuditContext }> = [];
  const store = {
    getUser: vi.fn(async (_t: string, id: string) => (id === user.userId ? user : undefined)),
    getRoles: vi.fn(async () => []),
    updateUser: vi.fn(async () => undefined),
    eraseUser: vi.fn(async (next: User, previous: User, audit: AuditContext) => {
      erased.push({ next, previous, audit });
    }),
    listApiKeys: vi.fn(async () => ({ items: [] })),
    updateApiKey: vi.fn(async () => undefined),
  };
  const directory = { deleteUser: vi.fn(async () => undefined) };
  const deps = {
    store: fakeUserStores(store),
    directory: directory as unknown as IdentityDirectory,
  };
  return { deps, store, directory, erased };
}

describe('erasing a person', () => {
  it('keeps only the opaque id, disabled for good, deletes the login, and audits user.erase', async () => {
    // Prepare
    const { deps, directory, erased } = setup(PERSON);
    // Act
    const view = await eraseUser(deps, adminAs('admin-1'), 'u1');
    // Assess
    expect(directory.deleteUser).toHaveBeenCalledWith('person@x.io');
    expect(erased).toHaveLength(1);
    expect(erased[0]?.next).toEqual({
      userId: 'u1',
      tenantId: T,
      roles: [],
      teams: [],
      status: 'disabled',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: NOW,
      noLogin: true,
      erasedAt: NOW,
    });
    expect(erased[0]?.previous).toBe(PERSON);
    expect(erased[0]?.audit.draft).toMatchObject({
      action: 'user.erase',
      resourceType: 'user',
      resourceId: 'u1',
    });
    expect(view.email).toBeUndefined();
    expect(view.status).toBe('disabled');
  });

  it("revokes the person's active keys, audited, and no one else's", async () => {
    // Prepare
    const { deps, store } = setup(PERSON);
    const key = (keyId: string, createdBy: string) => ({
      keyId,
      name: 'ci',
      scopes: [],
      createdBy,
      createdAt: '',
      expiresAt: '2099-01-01T00:00:00Z',
      status: 'active' as const,
      secretHash: 'h',
    });
    store.listApiKeys.mockResolvedValue({ items: [key('k-mine', 'u1'), key('k-other', 'u2')] } as never);
    // Act
    await eraseUser(deps, adminAs('admin-1'), 'u1');
    // Assess
    const calls = store.updateApiKey.mock.calls as unknown as [
      string,
      { keyId: string; status: string },
      unknown,
      AuditContext,
    ][];
    expect(calls.map(([, next, , audit]) => [next.keyId, next.status, audit.draft.action])).toEqual([
      ['k-mine', 'revoked', 'apikey.revoke'],
    ]);
  });

  it('refuses to erase yourself, and changes nothing', async () => {
    // Prepare
    const { deps, directory, erased } = setup(PERSON);
    // Act
    const refused = eraseUser(deps, adminAs('u1'), 'u1');
    // Assess
    await expect(refused).rejects.toThrow(new ConflictError('You cannot erase yourself.'));
    expect(directory.deleteUser).not.toHaveBeenCalled();
    expect(erased).toEqual([]);
  });

  it('erasing twice is a no-op that answers the erased profile', async () => {
    // Prepare
    const already: User = { ...PERSON, email: undefined, roles: [], teams: [], erasedAt: NOW, noLogin: true };
    const { deps, directory, erased } = setup(already);
    // Act
    const view = await eraseUser(deps, adminAs('admin-1'), 'u1');
    // Assess
    expect(view.erasedAt).toBe(NOW);
    expect(directory.deleteUser).not.toHaveBeenCalled();
    expect(erased).toEqual([]);
  });

  it('deletes no login for a person who never had one', async () => {
    // Prepare
    const { deps, directory, erased } = setup({ ...PERSON, noLogin: true });
    // Act
    await eraseUser(deps, adminAs('admin-1'), 'u1');
    // Assess
    expect(directory.deleteUser).not.toHaveBeenCalled();
    expect(erased).toHaveLength(1);
  });

  it('refuses any change to an erased person, naming them', async () => {
    // Prepare
    const already: User = { ...PERSON, email: undefined, erasedAt: NOW, noLogin: true };
    const { deps, store } = setup(already);
    // Act
    const refused = updateUser(deps, adminAs('admin-1'), 'u1', { status: 'active' });
    // Assess
    await expect(refused).rejects.toThrow(new ConflictError('User u1 was erased; invite the person again.'));
    expect(store.updateUser).not.toHaveBeenCalled();
  });
});
