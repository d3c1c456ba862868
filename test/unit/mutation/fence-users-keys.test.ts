/**
 * Disabling or deleting a user revokes the active API keys they created (functions/core/tenancy/
 * users.ts), each with its own audit record, and leaves everyone else's keys, and keys already
 * revoked, alone. Enabling, or changing only teams, revokes nothing.
 */
import { describe, expect, it, vi } from 'vitest';
import { PERMISSIONS } from '#core/access/permissions.ts';
import type { AuditContext } from '#core/audit/audit.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import { viewOf } from '#core/tenancy/api-keys.ts';
import type { Caller } from '#core/tenancy/context.ts';
import type { ApiKeyRecord, User } from '#core/tenancy/model.ts';
import type { IdentityDirectory } from '#core/tenancy/ports.ts';
import { deleteUser, updateUser } from '#core/tenancy/users.ts';
import { fakeUserStores } from '../../helpers/tenancy-stores.ts';

const T = 'tabcdefghijklmnop';
const NOW = '2026-11-29T12:00:00.000Z';
const META: RequestMeta = { requestId: 'req-1', sourceIp: '10.0.0.1', userAgent: 'unit', now: NOW };

function admin(): Caller {
  const principal: TenantPrincipal = {
    kind: 'tenant',
    tenantId: T,
    principalId: 'kadmin',
    principalType: 'apikey',
    onBehalfOf: 'admin-sub',
    roles: [],
    permissions: new Set(PERMISSIONS),
  };
  return { principal, meta: META };
}

const USER: User = {
  userId: 'u1',
  tenantId: T,
  email: 'u1@x.io',
  roles: ['viewer'],
  teams: [],
  status: 'active',
  createdAt: '',
  updatedAt: '',
};

function key(keyId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    keyId,
    name: keyId,
    scopes: ['workflows:read'],
    createdBy: 'u1',
    createdAt: '2026-11-01T00:00:00.000Z',
    expiresAt: '2027-06-01T00:00:00.000Z',
    status: 'active',
    secretHash: 'a'.repeat(64),
    ...overrides,
  };
}

function setup(keys: ApiKeyRecord[], user: User = USER) {
  const revoked: Array<{
    tenantId: string;
    record: ApiKeyRecord;
    previous: ApiKeyRecord;
    audit: AuditContext;
  }> = [];
  const pages: Array<string | undefined> = [];
  const store = {
    getUser: vi.fn(async (_t: string, id: string) => (id === user.userId ? user : undefined)),
    getRoles: vi.fn(async () => []),
    updateUser: vi.fn(async () => undefined),
    deleteUser: vi.fn(async () => undefined),
    // Two keys a page: reading every key follows the cursor.
    listApiKeys: vi.fn(async (_t: string, page: { cursor?: string }) => {
      pages.push(page.cursor);
      const at = Number(page.cursor ?? '0');
      const rest = at + 2 < keys.length ? { nextCursor: String(at + 2) } : {};
      return { items: keys.slice(at, at + 2), ...rest };
    }),
    updateApiKey: vi.fn(
      async (tenantId: string, record: ApiKeyRecord, previous: ApiKeyRecord, audit: AuditContext) => {
        revoked.push({ tenantId, record, previous, audit });
      },
    ),
  };
  const directory = {
    disableUser: vi.fn(async () => undefined),
    enableUser: vi.fn(async () => undefined),
    deleteUser: vi.fn(async () => undefined),
  };
  const deps = {
    store: fakeUserStores(store),
    directory: directory as unknown as IdentityDirectory,
  };
  return { deps, revoked, pages };
}

const KEYS = [
  key('k1', { previousSecretHash: 'b'.repeat(64), previousValidUntil: '2026-11-30T00:00:00.000Z' }),
  key('k2', { createdBy: 'someone-else' }),
  key('k3', { status: 'revoked' }),
  key('k4'),
];

describe('revoking a user’s keys', () => {
  it('disabling revokes each active key they created, with its previous secret dropped and audited', async () => {
    // Prepare
    const { deps, revoked, pages } = setup(KEYS);
    // Act
    await updateUser(deps, admin(), 'u1', { status: 'disabled' });
    // Assess
    expect(pages).toEqual([undefined, '2']);
    expect(revoked.map((r) => r.record.keyId)).toEqual(['k1', 'k4']);
    const first = revoked[0];
    const next: ApiKeyRecord = { ...key('k1'), status: 'revoked', revokedAt: NOW, revokedBy: 'admin-sub' };
    expect(first).toEqual({
      tenantId: T,
      record: next,
      previous: KEYS[0],
      audit: {
        tenantId: T,
        actor: { id: 'kadmin', type: 'apikey' },
        meta: META,
        draft: {
          action: 'apikey.revoke',
          resourceType: 'apikey',
          resourceId: 'k1',
          before: viewOf(KEYS[0] as ApiKeyRecord),
          after: viewOf(next),
        },
      },
    });
  });

  it('deleting revokes them too', async () => {
    // Prepare
    const { deps, revoked } = setup(KEYS);
    // Act
    await deleteUser(deps, admin(), 'u1');
    // Assess
    expect(revoked.map((r) => r.record.keyId)).toEqual(['k1', 'k4']);
    expect(revoked.every((r) => r.record.status === 'revoked')).toBe(true);
  });

  it('enabling, or changing only teams, revokes nothing', async () => {
    // Prepare
    const disabled = setup(KEYS, { ...USER, status: 'disabled' });
    const active = setup(KEYS);
    // Act
    await updateUser(disabled.deps, admin(), 'u1', { status: 'active' });
    await updateUser(active.deps, admin(), 'u1', { teams: [] });
    await updateUser(active.deps, admin(), 'u1', { status: 'active' });
    // Assess
    expect(disabled.revoked).toEqual([]);
    expect(active.revoked).toEqual([]);
  });
});
