import { describe, expect, it } from 'vitest';
import { PERMISSIONS } from '#core/access/permissions.ts';
import { ForbiddenError, ValidationError } from '#core/errors.ts';
import type { PlatformPrincipal, RequestMeta, TenantPrincipal } from '#core/principal.ts';
import type { Tenant, User } from '#core/tenancy/model.ts';
import type { IdentityDirectory, TenantStore } from '#core/tenancy/ports.ts';
import { createTenant } from '#core/tenancy/tenants.ts';
import { inviteUser, type UserDeps, updateUser } from '#core/tenancy/users.ts';
import {
  fakeApiKeys,
  fakeRoles,
  fakeTeams,
  fakeTenants,
  fakeUsers,
} from '../../../helpers/tenancy-stores.ts';

/**
 * "Nothing half-created": the login lives in the directory (Cognito), the records in the store
 * (DynamoDB). These use cases must leave neither a login without records nor records without a
 * login, and must switch a login off before the records say so.
 */

const T = 'tabcdefghijklmnop';
const META: RequestMeta = {
  requestId: 'req-1',
  sourceIp: '10.0.0.1',
  userAgent: 'unit',
  now: '2026-11-22T00:00:00.000Z',
};
const OPERATOR: PlatformPrincipal = { kind: 'platform', principalId: 'operator-sub' };
const ADMIN: TenantPrincipal = {
  kind: 'tenant',
  tenantId: T,
  principalId: 'admin-sub',
  principalType: 'user',
  roles: ['admin'],
  permissions: new Set(PERMISSIONS),
};

/** One call to a fake port, in the order it happened across both ports. */
interface PortCall {
  readonly port: 'store' | 'directory';
  readonly method: string;
  readonly args: readonly unknown[];
}

/**
 * `port` with every method recording its call (in `calls`) before it runs. The fakes' methods a
 * test does not give fail the call (test/helpers/tenancy-stores.ts), so an unexpected write fails
 * the test instead of passing silently.
 */
function recorded<P extends object>(port: PortCall['port'], calls: PortCall[], methods: P): P {
  const out: Record<string, unknown> = {};
  for (const [method, run] of Object.entries(methods)) {
    out[method] = (...args: unknown[]) => {
      calls.push({ port, method, args });
      return (run as (...a: unknown[]) => Promise<unknown>)(...args);
    };
  }
  return out as P;
}

const USER: User = {
  userId: 'user-sub',
  tenantId: T,
  email: 'member@example.com',
  roles: ['viewer'],
  teams: [],
  status: 'active',
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
};

/** What the use cases under test take: the tenant store, and what user changes read and write. */
type Store = TenantStore & UserDeps['store'];

/** Fakes with sensible reads; tests override the writes. */
function fakes(options: { store?: Partial<Store>; directory?: Partial<IdentityDirectory> } = {}) {
  const calls: PortCall[] = [];
  const store = recorded<Store>('store', calls, {
    ...fakeTenants(),
    ...fakeUsers({ getUser: async () => USER }),
    ...fakeRoles({ getRoles: async () => [] }),
    ...fakeTeams({ getTeam: async () => undefined }),
    ...fakeApiKeys({ listApiKeys: async () => ({ items: [] }) }),
    ...options.store,
  });
  const directory = recorded<IdentityDirectory>('directory', calls, {
    createUser: async () => ({ sub: 'new-sub' }),
    deleteUser: async () => undefined,
    disableUser: async () => undefined,
    enableUser: async () => undefined,
    ...options.directory,
  });
  const names = (): string[] => calls.map((c) => `${c.port}.${c.method}`);
  const storeWrites = (): string[] =>
    calls
      .filter((c) => c.port === 'store' && !/^(get|list|find|read)/.test(c.method))
      .map((c) => `store.${c.method}`);
  return { calls, store, directory, names, storeWrites };
}

describe('createTenant: nothing half-created', () => {
  const input = { name: 'Acme', plan: 'pro' as const, adminEmail: 'Owner@Acme.example' };

  it('when the store write fails after the login was made, the error propagates and the login is deleted', async () => {
    // Prepare
    const failure = new Error('TransactionCanceled');
    const f = fakes({
      store: {
        createTenant: async () => {
          throw failure;
        },
      },
    });
    // Act
    const result = createTenant({ store: f.store, directory: f.directory }, OPERATOR, META, input);
    // Assess
    await expect(result).rejects.toBe(failure);
    expect(f.names()).toEqual(['directory.createUser', 'store.createTenant', 'directory.deleteUser']);
    expect(f.calls.at(-1)?.args).toEqual(['owner@acme.example']);
  });

  it('still reports the store failure when the rollback itself fails', async () => {
    // Prepare
    const failure = new Error('store down');
    const f = fakes({
      store: {
        createTenant: async () => {
          throw failure;
        },
      },
      directory: {
        deleteUser: async () => {
          throw new Error('directory down too');
        },
      },
    });
    // Act
    const result = createTenant({ store: f.store, directory: f.directory }, OPERATOR, META, input);
    // Assess
    await expect(result).rejects.toBe(failure);
    expect(f.names()).toContain('directory.deleteUser');
  });

  it('when the directory fails, the store is never written', async () => {
    // Prepare
    const failure = new Error('UsernameExists');
    const f = fakes({
      directory: {
        createUser: async () => {
          throw failure;
        },
      },
    });
    // Act
    const result = createTenant({ store: f.store, directory: f.directory }, OPERATOR, META, input);
    // Assess
    await expect(result).rejects.toBe(failure);
    expect(f.storeWrites()).toEqual([]);
    expect(f.names()).toEqual(['directory.createUser']);
  });

  it('on success writes the tenant and its admin (the login’s sub) with an audit record, and deletes nothing', async () => {
    // Prepare
    const written: { tenant?: Tenant; admin?: User; action?: string } = {};
    const f = fakes({
      store: {
        createTenant: async (tenant, admin, audit) => {
          Object.assign(written, { tenant, admin, action: audit.draft.action });
        },
      },
    });
    // Act
    const { tenant } = await createTenant({ store: f.store, directory: f.directory }, OPERATOR, META, input);
    // Assess
    expect(f.names()).toEqual(['directory.createUser', 'store.createTenant']);
    expect(f.calls[0]?.args).toEqual(['owner@acme.example', tenant.tenantId]);
    expect(written.admin).toMatchObject({ userId: 'new-sub', tenantId: tenant.tenantId, roles: ['admin'] });
    expect(written.action).toBe('tenant.create');
  });
});

describe('inviteUser: nothing half-created', () => {
  const caller = { principal: ADMIN, meta: META };
  const input = { email: 'New.Person@Example.com', roles: ['developer'] };

  it('when the store write fails after the login was made, the error propagates and the login is deleted', async () => {
    // Prepare
    const failure = new Error('TransactionCanceled');
    const f = fakes({
      store: {
        createUser: async () => {
          throw failure;
        },
      },
    });
    // Act
    const result = inviteUser({ store: f.store, directory: f.directory }, caller, input);
    // Assess
    await expect(result).rejects.toBe(failure);
    const order = f.names().filter((n) => !n.startsWith('store.get'));
    expect(order).toEqual(['directory.createUser', 'store.createUser', 'directory.deleteUser']);
    expect(f.calls.at(-1)?.args).toEqual(['new.person@example.com']);
  });

  it('when the directory fails, the store is never written', async () => {
    // Prepare
    const failure = new Error('UsernameExists');
    const f = fakes({
      directory: {
        createUser: async () => {
          throw failure;
        },
      },
    });
    // Act
    const result = inviteUser({ store: f.store, directory: f.directory }, caller, input);
    // Assess
    await expect(result).rejects.toBe(failure);
    expect(f.storeWrites()).toEqual([]);
    expect(f.names()).not.toContain('directory.deleteUser');
  });

  it('an invalid invitation (unknown role) creates no login at all', async () => {
    // Prepare
    const f = fakes();
    // Act
    const result = inviteUser({ store: f.store, directory: f.directory }, caller, {
      email: 'x@example.com',
      roles: ['no-such-role'],
    });
    // Assess
    await expect(result).rejects.toBeInstanceOf(ValidationError);
    expect(f.names().filter((n) => n.startsWith('directory.'))).toEqual([]);
    expect(f.storeWrites()).toEqual([]);
  });

  it('on success writes the user under the login’s sub', async () => {
    // Prepare
    const f = fakes({ store: { createUser: async () => undefined } });
    // Act
    const user = await inviteUser({ store: f.store, directory: f.directory }, caller, input);
    // Assess
    expect(user).toMatchObject({ userId: 'new-sub', tenantId: T, email: 'new.person@example.com' });
    expect(f.names()).not.toContain('directory.deleteUser');
    expect(f.calls.find((c) => c.method === 'createUser' && c.port === 'directory')?.args).toEqual([
      'new.person@example.com',
      T,
    ]);
  });
});

describe('updateUser: the login goes off before the record says so', () => {
  const caller = { principal: ADMIN, meta: META };

  it('disabling calls directory.disableUser before the store write', async () => {
    // Prepare
    const f = fakes({ store: { updateUser: async () => undefined } });
    // Act
    const user = await updateUser({ store: f.store, directory: f.directory }, caller, USER.userId, {
      status: 'disabled',
    });
    // Assess
    expect(user.status).toBe('disabled');
    const order = f.names().filter((n) => !/^store\.(get|list)/.test(n));
    expect(order).toEqual(['directory.disableUser', 'store.updateUser']);
    expect(f.calls.find((c) => c.method === 'disableUser')?.args).toEqual([USER.email]);
  });

  it('when the store write fails after disabling, the error propagates and the login stays off (the safer state)', async () => {
    // Prepare
    const failure = new Error('ConditionalCheckFailed');
    const f = fakes({
      store: {
        updateUser: async () => {
          throw failure;
        },
      },
    });
    // Act
    const result = updateUser({ store: f.store, directory: f.directory }, caller, USER.userId, {
      status: 'disabled',
    });
    // Assess
    await expect(result).rejects.toBe(failure);
    expect(f.names()).not.toContain('directory.enableUser');
  });

  it('enabling writes the store first, then enables the login', async () => {
    // Prepare
    const disabled: User = { ...USER, status: 'disabled' };
    const f = fakes({ store: { getUser: async () => disabled, updateUser: async () => undefined } });
    // Act
    await updateUser({ store: f.store, directory: f.directory }, caller, USER.userId, { status: 'active' });
    // Assess
    expect(f.names().filter((n) => n !== 'store.getUser' && n !== 'store.getRoles')).toEqual([
      'store.updateUser',
      'directory.enableUser',
    ]);
  });

  it('a directory failure while disabling leaves the record untouched', async () => {
    // Prepare
    const failure = new Error('Cognito down');
    const f = fakes({
      directory: {
        disableUser: async () => {
          throw failure;
        },
      },
    });
    // Act
    const result = updateUser({ store: f.store, directory: f.directory }, caller, USER.userId, {
      status: 'disabled',
    });
    // Assess
    await expect(result).rejects.toBe(failure);
    expect(f.storeWrites()).toEqual([]);
  });

  it('nobody disables themselves: refused before the directory or the store is touched', async () => {
    // Prepare
    const f = fakes({ store: { getUser: async () => ({ ...USER, userId: ADMIN.principalId }) } });
    // Act
    const result = updateUser({ store: f.store, directory: f.directory }, caller, ADMIN.principalId, {
      status: 'disabled',
    });
    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenError);
    expect(f.names()).toEqual(['store.getUser']);
  });
});
