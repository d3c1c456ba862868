/**
 * The user use cases' checks as they stand: roles and teams must exist (named by position), nobody
 * grants what they lack or changes their own roles or status, nobody manages a user who outranks
 * them, and each write carries its audit record with the right action.
 */
import { describe, expect, it, vi } from 'vitest';
import { PERMISSIONS, type Permission } from '#core/access/permissions.ts';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '#core/errors.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import type { Caller } from '#core/tenancy/context.ts';
import type { ApiKeyRecord, Role, Team, User } from '#core/tenancy/model.ts';
import type { IdentityDirectory } from '#core/tenancy/ports.ts';
import { deleteUser, getUser, inviteUser, listUsers, updateUser } from '#core/tenancy/users.ts';
import { fakeUserStores } from '../../helpers/tenancy-stores.ts';

const T = 'tabcdefghijklmnop';
const NOW = '2026-11-29T12:00:00.000Z';
const META: RequestMeta = { requestId: 'req-1', sourceIp: '10.0.0.1', userAgent: 'unit', now: NOW };

function caller(
  permissions: readonly Permission[] = PERMISSIONS,
  principalType: 'user' | 'apikey' = 'user',
  principalId = 'admin-sub',
  onBehalfOf?: string,
): Caller {
  const principal: TenantPrincipal = {
    kind: 'tenant',
    tenantId: T,
    principalId,
    principalType,
    roles: ['admin'],
    permissions: new Set(permissions),
    ...(onBehalfOf ? { onBehalfOf } : {}),
  };
  return { principal, meta: META };
}

const OPS: Role = { name: 'ops', permissions: ['executions:cancel'], builtIn: false };
const TEAM: Team = { teamId: 'team-a', name: 'A', createdAt: '', updatedAt: '' };

function target(overrides: Partial<User> = {}): User {
  return {
    userId: 'u1',
    tenantId: T,
    email: 'u1@x.io',
    roles: ['viewer'],
    teams: [],
    status: 'active',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function deps(users: User[] = [target()], keys: ApiKeyRecord[] = []) {
  const writes: Array<{ op: string; user: User; audit: AuditContext }> = [];
  const keyWrites: Array<{ record: ApiKeyRecord; previous: ApiKeyRecord; audit: AuditContext }> = [];
  const store = {
    // One key per page, so reading every key of a user follows the cursor.
    listApiKeys: vi.fn(async (_t: string, page: { cursor?: string }) => {
      const at = Number(page.cursor ?? '0');
      const next = at + 1 < keys.length ? { nextCursor: String(at + 1) } : {};
      return { items: keys.slice(at, at + 1), ...next };
    }),
    updateApiKey: vi.fn(
      async (_t: string, record: ApiKeyRecord, previous: ApiKeyRecord, audit: AuditContext) => {
        keyWrites.push({ record, previous, audit });
      },
    ),
    getUser: vi.fn(async (_t: string, id: string) => users.find((u) => u.userId === id)),
    listUsers: vi.fn(async () => ({ items: users, nextCursor: 'c' })),
    getRoles: vi.fn(async (_t: string, names: readonly string[]) =>
      [OPS].filter((r) => names.includes(r.name)),
    ),
    getTeam: vi.fn(async (_t: string, id: string) => (id === TEAM.teamId ? TEAM : undefined)),
    createUser: vi.fn(async (user: User, audit: AuditContext) => {
      writes.push({ op: 'create', user, audit });
    }),
    updateUser: vi.fn(async (user: User, _previous: User, audit: AuditContext) => {
      writes.push({ op: 'update', user, audit });
    }),
    deleteUser: vi.fn(async (user: User, audit: AuditContext) => {
      writes.push({ op: 'delete', user, audit });
    }),
  };
  const directory = {
    createUser: vi.fn(async () => ({ sub: 'new-sub' })),
    disableUser: vi.fn(async () => undefined),
    enableUser: vi.fn(async () => undefined),
    deleteUser: vi.fn(async () => undefined),
  };
  return {
    deps: { store: fakeUserStores(store), directory: directory as IdentityDirectory },
    store,
    directory,
    writes,
    keyWrites,
  };
}

const audit = (draft: AuditContext['draft'], by: Caller = caller()): AuditContext => ({
  tenantId: T,
  actor: { id: by.principal.principalId, type: by.principal.principalType },
  meta: META,
  draft,
});

describe('inviteUser', () => {
  it('creates an active user with unique roles and teams and an invite audit record', async () => {
    // Prepare
    const { deps: d, writes } = deps();
    // Act
    const user = await inviteUser(d, caller(), {
      email: 'New@X.io',
      roles: ['viewer', 'ops', 'viewer'],
      teams: ['team-a', 'team-a'],
    });
    // Assess
    const expected: User = {
      userId: 'new-sub',
      tenantId: T,
      email: 'new@x.io',
      roles: ['viewer', 'ops'],
      teams: ['team-a'],
      status: 'active',
      createdAt: NOW,
      updatedAt: NOW,
    };
    expect(user).toEqual(expected);
    expect(writes).toEqual([
      {
        op: 'create',
        user: expected,
        audit: audit({ action: 'user.invite', resourceType: 'user', resourceId: 'new-sub', after: expected }),
      },
    ]);
  });

  it('names unknown teams and roles by position, and creates no login', async () => {
    // Prepare
    const { deps: d, directory } = deps();
    // Act
    const badTeams = inviteUser(d, caller(), {
      email: 'a@x.io',
      roles: ['viewer'],
      teams: ['team-a', 'nope'],
    });
    const badRoles = inviteUser(d, caller(), { email: 'a@x.io', roles: ['viewer', 'ghost'] });
    // Assess
    await expect(badTeams).rejects.toBeInstanceOf(ValidationError);
    await expect(badTeams).rejects.toMatchObject({
      message: 'Unknown team.',
      problems: [{ path: 'teams.1', message: 'unknown team nope' }],
    });
    await expect(badRoles).rejects.toMatchObject({
      problems: [{ path: 'roles.1', message: 'unknown role ghost' }],
    });
    expect(directory.createUser).not.toHaveBeenCalled();
  });

  it('refuses to grant permissions the caller lacks', async () => {
    // Prepare
    const { deps: d, directory } = deps();
    // Act
    const attempt = inviteUser(d, caller(['users:manage', 'agents:read']), {
      email: 'a@x.io',
      roles: ['ops'],
    });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ForbiddenError);
    expect(directory.createUser).not.toHaveBeenCalled();
  });
});

describe('getUser and listUsers', () => {
  it('answers 404 for an unknown user and passes listing through', async () => {
    // Prepare
    const { deps: d } = deps();
    // Act and assess
    await expect(getUser(d, T, 'ghost')).rejects.toThrow(new NotFoundError('No user ghost.'));
    expect(await getUser(d, T, 'u1')).toEqual(target());
    expect(await listUsers(d, T, { limit: 5 })).toEqual({ items: [target()], nextCursor: 'c' });
  });
});

describe('updateUser', () => {
  it('lets users change their own teams but not their own roles or status', async () => {
    // Prepare
    const me = target({ userId: 'admin-sub', roles: ['admin'] });
    const { deps: d, writes } = deps([me]);
    // Act
    const teams = await updateUser(d, caller(), 'admin-sub', { teams: ['team-a'] });
    const roles = updateUser(d, caller(), 'admin-sub', { roles: ['viewer'] });
    const status = updateUser(d, caller(), 'admin-sub', { status: 'disabled' });
    // Assess
    expect(teams.teams).toEqual(['team-a']);
    await expect(roles).rejects.toThrow(
      new ForbiddenError('You cannot change your own roles or status; ask another administrator.'),
    );
    await expect(status).rejects.toBeInstanceOf(ForbiddenError);
    expect(writes).toHaveLength(1);
  });

  it('does not take an API key for the user of the same id, but for its creator', async () => {
    // Prepare
    const { deps: d } = deps([target({ userId: 'k1' }), target({ userId: 'admin-sub' })]);
    const key = caller(PERMISSIONS, 'apikey', 'k1', 'admin-sub');
    // Act
    const next = await updateUser(d, key, 'k1', { status: 'disabled' });
    const own = updateUser(d, key, 'admin-sub', { roles: ['viewer'] });
    // Assess
    expect(next.status).toBe('disabled');
    await expect(own).rejects.toThrow(
      new ForbiddenError('You cannot change your own roles or status; ask another administrator.'),
    );
  });

  it('refuses to manage a user holding permissions the caller lacks, naming at most five', async () => {
    // Prepare
    const { deps: d } = deps([target({ roles: ['admin'] })]);
    const weak: Permission[] = ['users:manage', 'agents:read'];
    // Act
    const attempt = updateUser(d, caller(weak), 'u1', { status: 'disabled' });
    // Assess
    await expect(attempt).rejects.toThrow(
      new ForbiddenError(
        'This user holds permissions you do not (agents:write, tools:read, tools:write, workflows:read, workflows:write); ask an administrator.',
      ),
    );
  });

  it('checks new roles exist and are the caller’s to grant, and teams exist', async () => {
    // Prepare
    const { deps: d, writes } = deps();
    // Act and assess
    await expect(updateUser(d, caller(), 'u1', { roles: ['viewer', 'ghost'] })).rejects.toMatchObject({
      problems: [{ path: 'roles.1', message: 'unknown role ghost' }],
    });
    await expect(
      updateUser(
        d,
        caller([
          'users:manage',
          ...(['agents:read', 'tools:read', 'workflows:read', 'executions:read', 'usage:read'] as const),
        ]),
        'u1',
        {
          roles: ['ops'],
        },
      ),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(updateUser(d, caller(), 'u1', { teams: ['nope'] })).rejects.toMatchObject({
      problems: [{ path: 'teams.0', message: 'unknown team nope' }],
    });
    expect(writes).toEqual([]);
  });

  it('reads the target’s current and new custom roles once, and resolves them', async () => {
    // Prepare
    const { deps: d, store } = deps([target({ roles: ['ops', 'viewer'] })]);
    // Act
    const next = await updateUser(d, caller(), 'u1', { roles: ['ops', 'ops', 'auditor'] });
    // Assess
    expect(next.roles).toEqual(['ops', 'auditor']);
    expect(store.getRoles).toHaveBeenCalledTimes(1);
    expect(store.getRoles).toHaveBeenCalledWith(T, ['ops']);
  });

  it('judges the target by its current roles only, and the grant by the new ones', async () => {
    // Prepare: the target holds viewer; the caller may manage users but not grant ops.
    const { deps: d, store } = deps([target({ roles: ['viewer'] })]);
    const manager = caller([
      'users:manage',
      'agents:read',
      'tools:read',
      'workflows:read',
      'executions:read',
      'usage:read',
    ]);
    // Act
    const attempt = updateUser(d, manager, 'u1', { roles: ['ops'] });
    await updateUser(d, caller(), 'u1', { teams: ['team-a'] });
    // Assess
    await expect(attempt).rejects.toThrow('You cannot grant permissions you do not hold: executions:cancel.');
    expect(store.getRoles.mock.calls[1]).toEqual([T, []]);
  });

  it('refuses an outranking target whose rank comes from a custom role', async () => {
    // Prepare
    const { deps: d } = deps([target({ roles: ['ops'] })]);
    // Act
    const attempt = updateUser(d, caller(['users:manage']), 'u1', { status: 'disabled' });
    // Assess
    await expect(attempt).rejects.toThrow('(executions:cancel)');
  });

  it('disables the login before the record, enables it after, and audits each action', async () => {
    // Prepare
    const order: string[] = [];
    const {
      deps: d,
      writes,
      directory,
      store,
    } = deps([target(), target({ userId: 'u2', status: 'disabled' })]);
    directory.disableUser.mockImplementation(async () => void order.push('disable login'));
    directory.enableUser.mockImplementation(async () => void order.push('enable login'));
    store.updateUser.mockImplementation(async (user: User, _p: User, a: AuditContext) => {
      order.push(`record ${user.userId}`);
      writes.push({ op: 'update', user, audit: a });
    });
    // Act
    await updateUser(d, caller(), 'u1', { status: 'disabled' });
    await updateUser(d, caller(), 'u2', { status: 'active' });
    await updateUser(d, caller(), 'u1', { status: 'active', teams: [] });
    // Assess
    expect(order).toEqual(['disable login', 'record u1', 'record u2', 'enable login', 'record u1']);
    expect(writes.map((w) => w.audit.draft.action)).toEqual(['user.disable', 'user.enable', 'user.update']);
    expect(writes[0]?.audit).toEqual(
      audit({
        action: 'user.disable',
        resourceType: 'user',
        resourceId: 'u1',
        before: target(),
        after: { ...target(), status: 'disabled', updatedAt: NOW },
      }),
    );
  });
});

describe('deleteUser', () => {
  it('deletes the record, then the login, with an audit record', async () => {
    // Prepare
    const { deps: d, writes, directory } = deps();
    // Act
    await deleteUser(d, caller(), 'u1');
    // Assess
    expect(writes).toEqual([
      {
        op: 'delete',
        user: target(),
        audit: audit({ action: 'user.delete', resourceType: 'user', resourceId: 'u1', before: target() }),
      },
    ]);
    expect(directory.deleteUser).toHaveBeenCalledWith('u1@x.io');
  });

  it('refuses to delete oneself, also through one’s key, which may delete the user of its id', async () => {
    // Prepare
    const { deps: d, writes } = deps([target({ userId: 'admin-sub' }), target({ userId: 'k1' })]);
    const key = caller(PERMISSIONS, 'apikey', 'k1', 'admin-sub');
    // Act
    const self = deleteUser(d, caller(), 'admin-sub');
    const selfByKey = deleteUser(d, key, 'admin-sub');
    await deleteUser(d, key, 'k1');
    // Assess
    await expect(self).rejects.toThrow(new ConflictError('You cannot delete yourself.'));
    await expect(selfByKey).rejects.toThrow(new ConflictError('You cannot delete yourself.'));
    expect(writes.map((w) => w.user.userId)).toEqual(['k1']);
  });

  it('answers 404 for an unknown user and refuses one who outranks the caller', async () => {
    // Prepare
    const { deps: d, writes } = deps([target({ roles: ['admin'] })]);
    // Act and assess
    await expect(deleteUser(d, caller(), 'ghost')).rejects.toBeInstanceOf(NotFoundError);
    await expect(deleteUser(d, caller(['users:manage']), 'u1')).rejects.toBeInstanceOf(ForbiddenError);
    expect(writes).toEqual([]);
  });
});
