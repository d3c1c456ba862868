import { describe, expect, it, vi } from 'vitest';
import { PERMISSIONS } from '#core/access/permissions.ts';
import type { Caller } from '#core/tenancy/context.ts';
import { loginOf, type User } from '#core/tenancy/model.ts';
import type { IdentityDirectory } from '#core/tenancy/ports.ts';
import { deleteUser, updateUser } from '#core/tenancy/users.ts';
import { fakeUserStores } from '../../../helpers/tenancy-stores.ts';

const T = 'tabcdefghijklmnop';
const caller: Caller = {
  principal: {
    kind: 'tenant',
    tenantId: T,
    principalId: 'admin-1',
    principalType: 'user',
    roles: ['admin'],
    permissions: new Set(PERMISSIONS),
  },
  meta: { requestId: 'r', sourceIp: '10.0.0.1', userAgent: 'unit', now: '2026-11-30T00:00:00.000Z' },
};
const person = (extra: Partial<User>): User => ({
  userId: 'u1',
  tenantId: T,
  email: 'ann@acme.io',
  roles: ['viewer'],
  teams: [],
  status: 'active',
  createdAt: '',
  updatedAt: '',
  ...extra,
});

function setup(user: User) {
  const directory = { disableUser: vi.fn(), enableUser: vi.fn(), deleteUser: vi.fn() };
  const store = fakeUserStores({
    getUser: async (_t: string, id: string) => (id === user.userId ? user : undefined),
    getRoles: async () => [],
    updateUser: async () => undefined,
    deleteUser: async () => undefined,
    listApiKeys: async () => ({ items: [] }),
  });
  return { deps: { store, directory: directory as unknown as IdentityDirectory }, directory };
}

describe('the login a user owns', () => {
  it('is the email for a password user, the recorded login for an SSO user, none otherwise', () => {
    expect(loginOf(person({}))).toBe('ann@acme.io');
    expect(loginOf(person({ sso: { providerId: 'p1', login: 'p1_sub' } }))).toBe('p1_sub');
    expect(loginOf(person({ sso: { providerId: 'p1' } }))).toBeUndefined();
    expect(loginOf(person({ noLogin: true }))).toBeUndefined();
  });

  it("disabling or deleting an SSO user acts on their own login, never on the email's password login", async () => {
    // Prepare: the same address may be another person's password login, in another tenant
    const recorded = setup(person({ sso: { providerId: 'p1', login: 'p1_sub' } }));
    const unrecorded = setup(person({ sso: { providerId: 'p1' } }));
    // Act
    await updateUser(recorded.deps, caller, 'u1', { status: 'disabled' });
    await deleteUser(unrecorded.deps, caller, 'u1');
    // Assess
    expect(recorded.directory.disableUser).toHaveBeenCalledWith('p1_sub');
    expect(unrecorded.directory.deleteUser).not.toHaveBeenCalled();
  });
});

describe('userView', () => {
  it("shows an SSO user's provider, never the directory's name of their login (it can be their email)", async () => {
    const { userView } = await import('#core/tenancy/users.ts');
    const user = {
      userId: 'u1',
      tenantId: 't1',
      email: 'ann@acme.io',
      roles: [],
      teams: [],
      status: 'active' as const,
      createdAt: '',
      updatedAt: '',
      sso: { providerId: 'p1', login: 'ann@acme.io', providerRemovedAt: 'then' },
    };
    expect(userView(user).sso).toEqual({ providerId: 'p1', providerRemovedAt: 'then' });
    expect(JSON.stringify(userView({ ...user, noLogin: true }))).not.toContain('noLogin');
    expect(userView({ ...user, sso: undefined })).not.toHaveProperty('sso');
  });
});

describe('revokeKeysOf', () => {
  it('reads no keys when no user goes', async () => {
    const { revokeKeysOf } = await import('#core/tenancy/users.ts');
    const listApiKeys = vi.fn(async () => ({ items: [] }));
    const updateApiKey = vi.fn(async () => undefined);
    await revokeKeysOf(
      { listApiKeys, updateApiKey },
      { tenantId: T, actorId: 'admin', now: '', audit: (draft) => ({ draft }) as never },
    );
    expect(listApiKeys).not.toHaveBeenCalled();
  });
});
