import { randomUUID } from 'node:crypto';
import { isBuiltInRole } from '../access/permissions.ts';
import type { AuditContext, AuditDraft } from '../audit/audit.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { actingUser, viewOf } from './api-keys.ts';
import { audited, type Caller, readAll } from './context.ts';
import { type ApiKeyRecord, loginOf, type Page, type PageRequest, type User } from './model.ts';
import type { ApiKeyStore, IdentityDirectory, RoleStore, TeamStore, UserStore } from './ports.ts';
import { assertCanGrant, permissionsOfExistingRoles, resolvePermissions } from './roles.ts';

/** What user use cases need: the users, and the roles, teams and keys a user's changes check or revoke. */
export interface UserDeps {
  readonly store: UserStore &
    Pick<RoleStore, 'getRoles'> &
    Pick<TeamStore, 'getTeam'> &
    Pick<ApiKeyStore, 'listApiKeys' | 'updateApiKey'>;
  readonly directory: IdentityDirectory;
}

async function assertTeamsExist(deps: UserDeps, tenantId: string, teams: readonly string[]): Promise<void> {
  const problems: { path: string; message: string }[] = [];
  await Promise.all(
    teams.map(async (teamId, i) => {
      if (!(await deps.store.getTeam(tenantId, teamId)))
        problems.push({ path: `teams.${i}`, message: `unknown team ${teamId}` });
    }),
  );
  if (problems.length > 0) throw new ValidationError('Unknown team.', problems);
}

/** Reads the named custom roles once and serves later lookups of them from memory. */
async function rolesOnce(
  store: Pick<RoleStore, 'getRoles'>,
  tenantId: string,
  names: readonly string[],
): Promise<Pick<RoleStore, 'getRoles'>> {
  const custom = [...new Set(names.filter((n) => !isBuiltInRole(n)))];
  const found = await store.getRoles(tenantId, custom);
  return { getRoles: async (_t, wanted) => found.filter((r) => wanted.includes(r.name)) };
}

/**
 * Nobody manages a user who holds permissions they do not hold themselves: a `users:manage`
 * holder cannot disable, delete or demote the tenant's admin.
 */
async function assertOutranks(
  roles: Pick<RoleStore, 'getRoles'>,
  caller: Caller,
  target: User,
): Promise<void> {
  const held = await resolvePermissions(roles, caller.principal.tenantId, target.roles);
  const missing = [...held].filter((p) => !caller.principal.permissions.has(p));
  if (missing.length > 0) {
    throw new ForbiddenError(
      `This user holds permissions you do not (${missing.slice(0, 5).join(', ')}); ask an administrator.`,
    );
  }
}

/**
 * Revokes every active key the users created, one audited revocation each, reading the tenant's keys
 * once however many users go. The authorizer already
 * refuses keys of a disabled or deleted creator; this makes it permanent, so enabling the user again
 * does not bring old keys back.
 */
export async function revokeKeysOf(
  store: Pick<ApiKeyStore, 'listApiKeys' | 'updateApiKey'>,
  by: {
    readonly tenantId: string;
    /** Who the revocation names (`revokedBy`). */
    readonly actorId: string;
    readonly now: string;
    readonly audit: (draft: AuditDraft) => AuditContext;
  },
  ...userIds: readonly string[]
): Promise<void> {
  if (userIds.length === 0) return;
  const owners = new Set(userIds);
  const keys = await readAll((page) => store.listApiKeys(by.tenantId, page));
  for (const previous of keys.filter((k) => owners.has(k.createdBy) && k.status === 'active')) {
    const { previousSecretHash: _p, previousValidUntil: _v, ...rest } = previous;
    const next: ApiKeyRecord = { ...rest, status: 'revoked', revokedAt: by.now, revokedBy: by.actorId };
    await store.updateApiKey(
      by.tenantId,
      next,
      previous,
      by.audit({
        action: 'apikey.revoke',
        resourceType: 'apikey',
        resourceId: previous.keyId,
        before: viewOf(previous),
        after: viewOf(next),
      }),
    );
  }
}

/** {@link revokeKeysOf} done by a caller of the API. */
function revokedBy(caller: Caller) {
  return {
    tenantId: caller.principal.tenantId,
    actorId: actingUser(caller),
    now: caller.meta.now,
    audit: (draft: AuditDraft) => audited(caller, draft),
  };
}

/** A user as the API and the audit trail show them: never whether their email has a login elsewhere. */
export function userView(user: User): User {
  const { noLogin: _n, sso, ...view } = user;
  if (!sso) return view;
  // The directory's name of an SSO login can be the person's email (a SAML email NameID, or the local
  // platform's): not for answers, nor for the audit trail that erasure cannot reach.
  const { login: _l, ...shown } = sso;
  return { ...view, sso: shown };
}

/**
 * Invites a user: the login first (Cognito sends the invitation), then the records. If the records
 * fail, the login is removed again: nothing is left half-created.
 *
 * An email that already has a login (in another tenant, or a platform operator's) answers exactly
 * like a new one, so the API cannot be used to find out which addresses exist elsewhere: the user
 * is recorded here, with an id of the same shape, but no login is made and none is touched later
 * (`noLogin`); that person cannot sign in to this tenant with that address. An email already used
 * in this tenant stays a 409, which tells the caller nothing they could not list.
 */
export async function inviteUser(
  deps: UserDeps,
  caller: Caller,
  input: { email: string; roles: string[]; teams?: string[] },
): Promise<User> {
  const tenantId = caller.principal.tenantId;
  const roles = [...new Set(input.roles)];
  const teams = [...new Set(input.teams ?? [])];
  const granted = await permissionsOfExistingRoles(deps.store, tenantId, roles, 'roles');
  await assertTeamsExist(deps, tenantId, teams);
  assertCanGrant(caller, granted);
  const email = input.email.toLowerCase();
  const login = await deps.directory.createUser(email, tenantId).catch((error: unknown) => {
    if (error instanceof ConflictError) return undefined;
    throw error;
  });
  const user: User = {
    userId: login?.sub ?? randomUUID(),
    tenantId,
    email,
    roles,
    teams,
    status: 'active',
    createdAt: caller.meta.now,
    updatedAt: caller.meta.now,
    ...(login ? {} : { noLogin: true as const }),
  };
  try {
    await deps.store.createUser(
      user,
      audited(caller, {
        action: 'user.invite',
        resourceType: 'user',
        resourceId: user.userId,
        after: userView(user),
      }),
    );
  } catch (error) {
    // Only a login made by this call is ours to remove.
    if (login) await deps.directory.deleteUser(email).catch(() => undefined);
    throw error;
  }
  return userView(user);
}

/** One user of the caller's tenant, or 404. */
export async function getUser(deps: UserDeps, tenantId: string, userId: string): Promise<User> {
  const user = await deps.store.getUser(tenantId, userId);
  if (!user) throw new NotFoundError(`No user ${userId}.`);
  return user;
}

/** One user of the caller's tenant as the API shows them, or 404. */
export async function readUser(deps: UserDeps, tenantId: string, userId: string): Promise<User> {
  return userView(await getUser(deps, tenantId, userId));
}

/** Lists users. */
export async function listUsers(deps: UserDeps, tenantId: string, page: PageRequest): Promise<Page<User>> {
  const out = await deps.store.listUsers(tenantId, page);
  return { ...out, items: out.items.map(userView) };
}

/**
 * Changes roles, teams or status. Nobody changes their own roles or status (no self-escalation, no
 * locking oneself out), and nobody grants permissions they do not hold.
 */
export async function updateUser(
  deps: UserDeps,
  caller: Caller,
  userId: string,
  patch: { roles?: string[]; teams?: string[]; status?: 'active' | 'disabled' },
): Promise<User> {
  const tenantId = caller.principal.tenantId;
  const previous = await getUser(deps, tenantId, userId);
  if (previous.erasedAt) throw new ConflictError(`User ${userId} was erased; invite the person again.`);
  // The person, also through their own API key: a key cannot do what its creator's token may not.
  const self = actingUser(caller) === userId;
  if (self && (patch.roles !== undefined || patch.status !== undefined)) {
    throw new ForbiddenError('You cannot change your own roles or status; ask another administrator.');
  }
  // The target's current roles and the new ones are read in one request, then checked from memory.
  const roles = await rolesOnce(deps.store, tenantId, [...previous.roles, ...(patch.roles ?? [])]);
  if (patch.roles !== undefined || patch.status !== undefined) await assertOutranks(roles, caller, previous);
  if (patch.roles)
    assertCanGrant(caller, await permissionsOfExistingRoles(roles, tenantId, patch.roles, 'roles'));
  if (patch.teams) await assertTeamsExist(deps, tenantId, patch.teams);
  const next: User = {
    ...previous,
    ...(patch.roles ? { roles: [...new Set(patch.roles)] } : {}),
    ...(patch.teams ? { teams: [...new Set(patch.teams)] } : {}),
    ...(patch.status ? { status: patch.status } : {}),
    updatedAt: caller.meta.now,
  };
  const statusChanged = patch.status !== undefined && patch.status !== previous.status;
  // Disable the login before the record says so; enable it after. A failure between leaves the
  // safer state (login off) and the request can simply be repeated.
  const login = loginOf(previous);
  if (login && statusChanged && next.status === 'disabled') await deps.directory.disableUser(login);
  await deps.store.updateUser(
    next,
    previous,
    audited(caller, {
      action: statusChanged ? (next.status === 'disabled' ? 'user.disable' : 'user.enable') : 'user.update',
      resourceType: 'user',
      resourceId: userId,
      before: userView(previous),
      after: userView(next),
    }),
  );
  if (statusChanged && next.status === 'disabled') await revokeKeysOf(deps.store, revokedBy(caller), userId);
  if (login && statusChanged && next.status === 'active') await deps.directory.enableUser(login);
  return userView(next);
}

/** Deletes a user: the record (and so all access) first, then the login. */
export async function deleteUser(deps: UserDeps, caller: Caller, userId: string): Promise<void> {
  const tenantId = caller.principal.tenantId;
  if (actingUser(caller) === userId) {
    throw new ConflictError('You cannot delete yourself.');
  }
  const user = await getUser(deps, tenantId, userId);
  await assertOutranks(deps.store, caller, user);
  await deps.store.deleteUser(
    user,
    audited(caller, {
      action: 'user.delete',
      resourceType: 'user',
      resourceId: userId,
      before: userView(user),
    }),
  );
  await revokeKeysOf(deps.store, revokedBy(caller), userId);
  const login = loginOf(user);
  if (login) await deps.directory.deleteUser(login);
}

/**
 * Erases a person (the right to erasure): their login goes, and their profile keeps only the opaque
 * id, with no email, no roles and no teams, disabled for good; their API keys are revoked. Audit
 * records always named them by that id alone (core/audit/audit.ts), so after this neither the
 * trail nor its archive holds their personal data, and both still verify. Erasing twice is a no-op.
 */
export async function eraseUser(deps: UserDeps, caller: Caller, userId: string): Promise<User> {
  const tenantId = caller.principal.tenantId;
  if (actingUser(caller) === userId) throw new ConflictError('You cannot erase yourself.');
  const user = await getUser(deps, tenantId, userId);
  if (user.erasedAt) return userView(user);
  await assertOutranks(deps.store, caller, user);
  // The login first: Cognito holds the email too, and a failure after it leaves a user who cannot
  // sign in, which a repeated request finishes erasing.
  const login = loginOf(user);
  if (login) await deps.directory.deleteUser(login);
  const erased: User = {
    userId: user.userId,
    tenantId,
    roles: [],
    teams: [],
    status: 'disabled',
    createdAt: user.createdAt,
    updatedAt: caller.meta.now,
    noLogin: true,
    erasedAt: caller.meta.now,
  };
  await deps.store.eraseUser(
    erased,
    user,
    audited(caller, { action: 'user.erase', resourceType: 'user', resourceId: userId }),
  );
  await revokeKeysOf(deps.store, revokedBy(caller), userId);
  return userView(erased);
}
