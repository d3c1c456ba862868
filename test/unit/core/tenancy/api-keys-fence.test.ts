import { describe, expect, it, vi } from 'vitest';
import { Authenticator, type AuthResult } from '#core/access/authenticate.ts';
import { BUILT_IN_ROLES, PERMISSIONS, type Permission } from '#core/access/permissions.ts';
import type { AuditContext } from '#core/audit/audit.ts';
import { ForbiddenError } from '#core/errors.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import {
  createApiKey,
  formatApiKey,
  hashApiKey,
  revokeApiKey,
  rotateApiKey,
} from '#core/tenancy/api-keys.ts';
import type { ApiKeyRecord, Role, Tenant, User } from '#core/tenancy/model.ts';
import type { ApiKeyStore, IdentityDirectory } from '#core/tenancy/ports.ts';
import { deleteUser, type UserDeps, updateUser } from '#core/tenancy/users.ts';
import { encodeAuthorizerContext } from '#shared/auth-context.ts';
import { fakeTenants, fakeUserStores } from '../../../helpers/tenancy-stores.ts';

/** The result as the authorizer hands it to the API (functions/shared/auth-context.ts). */
const encoded = async (result: Promise<AuthResult>) => encodeAuthorizerContext(await result);

/**
 * a key is changed only by its creator (or a tenant admin holding all its
 * scopes), and a key acts only while its creator is active and never beyond their current permissions.
 */

const T = 'tabcdefghijklmnop';
const NOW = Date.parse('2026-11-22T00:00:00Z');
const META: RequestMeta = {
  requestId: 'req-1',
  sourceIp: '10.0.0.1',
  userAgent: 'unit',
  now: new Date(NOW).toISOString(),
};

function principal(
  principalId: string,
  permissions: readonly Permission[],
  extra: Partial<TenantPrincipal> = {},
): TenantPrincipal {
  return {
    kind: 'tenant',
    tenantId: T,
    principalId,
    principalType: 'user',
    roles: [],
    permissions: new Set(permissions),
    ...extra,
  };
}

const ADMIN = principal('admin-sub', PERMISSIONS);
const KEY_MANAGER = principal('keys-sub', ['apikeys:manage', 'workflows:read']);

function person(userId: string, roles: string[], status: User['status'] = 'active'): User {
  return {
    userId,
    tenantId: T,
    email: `${userId}@example.com`,
    roles,
    teams: [],
    status,
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
  };
}

function keyRecord(
  keyId: string,
  createdBy: string,
  scopes: Permission[],
): { record: ApiKeyRecord; key: string } {
  const key = formatApiKey(T, keyId);
  return {
    key,
    record: {
      keyId,
      name: keyId,
      scopes,
      createdBy,
      createdAt: '2026-11-01T00:00:00.000Z',
      expiresAt: '2027-06-01T00:00:00.000Z',
      status: 'active',
      secretHash: hashApiKey(key),
    },
  };
}

/** An in-memory tenancy store holding users, custom roles and keys; key writes are recorded with their audit. */
function memoryStore(users: User[], roles: Role[] = []) {
  const keys = new Map<string, ApiKeyRecord>();
  const audits: AuditContext[] = [];
  const tenant: Tenant = {
    tenantId: T,
    name: 'A',
    plan: 'pro',
    status: 'active',
    adminEmail: 'a@example.com',
    createdAt: '',
    updatedAt: '',
  };
  const store = {
    keys,
    audits,
    users: new Map(users.map((u) => [u.userId, u])),
    findUserBySub: async () => undefined,
    getTenant: async (id: string) => (id === T ? tenant : undefined),
    getUser: async (_t: string, id: string) => store.users.get(id),
    getRoles: async (_t: string, names: readonly string[]) => roles.filter((r) => names.includes(r.name)),
    getTeam: async () => undefined,
    getApiKey: async (_t: string, id: string) => keys.get(id),
    touchApiKey: async () => undefined,
    listApiKeys: async () => ({ items: [...keys.values()] }),
    createApiKey: vi.fn(async (_t: string, record: ApiKeyRecord, audit: AuditContext) => {
      keys.set(record.keyId, record);
      audits.push(audit);
    }),
    updateApiKey: vi.fn(async (_t: string, next: ApiKeyRecord, _p: ApiKeyRecord, audit: AuditContext) => {
      keys.set(next.keyId, next);
      audits.push(audit);
    }),
    updateUser: async (next: User) => {
      store.users.set(next.userId, next);
    },
    deleteUser: async (user: User) => {
      store.users.delete(user.userId);
    },
  };
  return store;
}

/** The memory store over fakes of every store it stands in for (their other methods are unexpected). */
const asStore = (s: ReturnType<typeof memoryStore>) => ({ ...fakeTenants(), ...fakeUserStores(), ...s });

const directory: IdentityDirectory = {
  createUser: async () => ({ sub: 'new' }),
  disableUser: async () => undefined,
  enableUser: async () => undefined,
  deleteUser: async () => undefined,
};

describe('rotating or revoking a key someone else made', () => {
  const adminKey = () => keyRecord('kadminadminadmin1', 'admin-sub', ['tenant:admin', 'users:manage']);

  it.each([
    [
      'rotate',
      (s: ApiKeyStore, c: TenantPrincipal) =>
        rotateApiKey(s, { principal: c, meta: META }, 'kadminadminadmin1'),
    ],
    [
      'revoke',
      (s: ApiKeyStore, c: TenantPrincipal) =>
        revokeApiKey(s, { principal: c, meta: META }, 'kadminadminadmin1'),
    ],
  ])('%s by a holder of only apikeys:manage is 403 and writes nothing', async (_name, act) => {
    // Prepare
    const store = memoryStore([person('admin-sub', ['admin'])]);
    const { record } = adminKey();
    store.keys.set(record.keyId, record);
    // Act
    const result = act(asStore(store), KEY_MANAGER);
    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenError);
    expect(store.updateApiKey).not.toHaveBeenCalled();
    expect(store.keys.get(record.keyId)?.secretHash).toBe(record.secretHash);
  });

  it('a tenant admin missing one of the key’s scopes cannot rotate it', async () => {
    // Prepare
    const store = memoryStore([]);
    const { record } = adminKey();
    store.keys.set(record.keyId, record);
    const partialAdmin = principal('other-sub', ['apikeys:manage', 'tenant:admin']);
    // Act
    const result = rotateApiKey(asStore(store), { principal: partialAdmin, meta: META }, record.keyId);
    // Assess
    await expect(result).rejects.toThrow(/users:manage/);
    expect(store.updateApiKey).not.toHaveBeenCalled();
  });

  it('a tenant admin holding every scope rotates it, and the audit names them', async () => {
    // Prepare
    const store = memoryStore([]);
    const { record } = adminKey();
    store.keys.set(record.keyId, record);
    const otherAdmin = principal('admin-2', PERMISSIONS);
    // Act
    const { view } = await rotateApiKey(asStore(store), { principal: otherAdmin, meta: META }, record.keyId);
    // Assess
    expect(view.rotatedBy).toBe('admin-2');
    expect(store.audits[0]?.draft).toMatchObject({
      action: 'apikey.rotate',
      after: { rotatedBy: 'admin-2' },
    });
    expect(store.audits[0]?.actor).toEqual({ id: 'admin-2', type: 'user' });
  });

  it('the creator rotates and revokes their own key without tenant:admin; through a key, the audit names the person', async () => {
    // Prepare
    const store = memoryStore([]);
    const { record } = keyRecord('kownownownownown1', 'keys-sub', ['workflows:read']);
    store.keys.set(record.keyId, record);
    const viaKey = principal('kviakeyviakeyvia', ['apikeys:manage'], {
      principalType: 'apikey',
      onBehalfOf: 'keys-sub',
    });
    // Act
    await rotateApiKey(asStore(store), { principal: KEY_MANAGER, meta: META }, record.keyId);
    await revokeApiKey(asStore(store), { principal: viaKey, meta: META }, record.keyId);
    // Assess
    expect(store.keys.get(record.keyId)).toMatchObject({ status: 'revoked', revokedBy: 'keys-sub' });
    expect(store.audits.map((a) => a.draft.action)).toEqual(['apikey.rotate', 'apikey.revoke']);
  });

  it('a key made through a key belongs to the person behind it', async () => {
    // Prepare
    const store = memoryStore([]);
    const viaKey = principal('kviakeyviakeyvia', ['apikeys:manage', 'workflows:read'], {
      principalType: 'apikey',
      onBehalfOf: 'keys-sub',
    });
    // Act
    const { view } = await createApiKey(
      asStore(store),
      { principal: viaKey, meta: META },
      {
        name: 'child',
        scopes: ['workflows:read'],
        expiresAt: '2027-01-01T00:00:00.000Z',
      },
    );
    // Assess
    expect(view.createdBy).toBe('keys-sub');
  });
});

describe('keys act only while their creator is active, within their current permissions', () => {
  function authenticator(store: ReturnType<typeof memoryStore>) {
    return new Authenticator({
      store: asStore(store),
      verifier: { verify: async () => Promise.reject(new Error('no tokens here')) },
      platformAdminGroup: 'platform-admins',
      cacheTtlMs: 1_000,
      now: () => NOW,
    });
  }

  it.each([
    ['disabled', [person('dev-sub', ['developer'], 'disabled')]],
    ['deleted', []],
  ])('a key whose creator is %s is refused', async (_name, users) => {
    // Prepare
    const store = memoryStore(users);
    const { record, key } = keyRecord('kdevdevdevdevdev1', 'dev-sub', ['workflows:read']);
    store.keys.set(record.keyId, record);
    // Act
    const ctx = await encoded(authenticator(store).authenticate({ 'x-api-key': key }));
    // Assess
    expect(ctx).toEqual({ authenticated: false, reason: 'key-creator-inactive' });
  });

  it('the key’s permissions are its scopes that its creator still holds', async () => {
    // Prepare: made as a developer; the creator has since become a viewer.
    const store = memoryStore(
      [person('dev-sub', ['viewer', 'ops'])],
      [{ name: 'ops', permissions: ['executions:cancel'], builtIn: false }],
    );
    const { record, key } = keyRecord('kdevdevdevdevdev1', 'dev-sub', [
      'workflows:read',
      'workflows:write',
      'executions:cancel',
    ]);
    store.keys.set(record.keyId, record);
    // Act
    const ctx = await encoded(authenticator(store).authenticate({ 'x-api-key': key }));
    // Assess
    expect(ctx).toMatchObject({ authenticated: true, permissions: 'executions:cancel workflows:read' });
    expect(BUILT_IN_ROLES.viewer).not.toContain('workflows:write');
  });
});

describe('disabling or deleting a user revokes their keys', () => {
  function seeded() {
    const store = memoryStore([person('dev-sub', ['developer']), person('other-sub', ['developer'])]);
    const mine = keyRecord('kmineminemine0001', 'dev-sub', ['workflows:read']).record;
    const theirs = keyRecord('ktheirstheirs0001', 'other-sub', ['workflows:read']).record;
    store.keys.set(mine.keyId, mine);
    store.keys.set(theirs.keyId, theirs);
    return { store, mine, theirs };
  }

  it.each([
    [
      'disabling',
      (deps: UserDeps) =>
        updateUser(deps, { principal: ADMIN, meta: META }, 'dev-sub', { status: 'disabled' }),
    ],
    ['deleting', (deps: UserDeps) => deleteUser(deps, { principal: ADMIN, meta: META }, 'dev-sub')],
  ])('%s the creator revokes exactly their keys, audited', async (_name, act) => {
    // Prepare
    const { store, mine, theirs } = seeded();
    // Act
    await act({ store: asStore(store), directory });
    // Assess
    expect(store.keys.get(mine.keyId)).toMatchObject({ status: 'revoked', revokedBy: 'admin-sub' });
    expect(store.keys.get(theirs.keyId)?.status).toBe('active');
    expect(store.audits.map((a) => [a.draft.action, a.draft.resourceId])).toEqual([
      ['apikey.revoke', mine.keyId],
    ]);
  });
});
