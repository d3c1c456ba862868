import { BUILT_IN_ROLES, isBuiltInRole, type Permission } from '../access/permissions.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { audited, type Caller, readAll } from './context.ts';
import type { Page, PageRequest, Role } from './model.ts';
import type { RoleStore, UserStore } from './ports.ts';

/** Roles and who holds them: a role changes only if the caller outranks every holder. */
export type RolesAndHolders = RoleStore & Pick<UserStore, 'listUsers'>;

const builtIn = (name: string): Role => ({ name, permissions: BUILT_IN_ROLES[name] ?? [], builtIn: true });

/** Built-in roles first, then the tenant's custom roles (custom roles are paged; built-ins lead page one). */
export async function listRoles(store: RoleStore, tenantId: string, page: PageRequest): Promise<Page<Role>> {
  const custom = await store.listRoles(tenantId, page);
  return page.cursor
    ? custom
    : { ...custom, items: [...Object.keys(BUILT_IN_ROLES).map(builtIn), ...custom.items] };
}

/** One role, built-in or custom, or 404. */
export async function getRole(store: RoleStore, tenantId: string, name: string): Promise<Role> {
  if (isBuiltInRole(name)) return builtIn(name);
  const role = await store.getRole(tenantId, name);
  if (!role) throw new NotFoundError(`No role ${name}.`);
  return role;
}

/** Resolves role names to the union of their permissions; unknown names resolve to nothing. */
export async function resolvePermissions(
  store: Pick<RoleStore, 'getRoles'>,
  tenantId: string,
  roles: readonly string[],
): Promise<Set<Permission>> {
  const out = new Set<Permission>();
  const custom: string[] = [];
  for (const name of roles) {
    // Own keys only: a custom role may be named like an Object.prototype member (`constructor`).
    const permissions = isBuiltInRole(name) ? BUILT_IN_ROLES[name] : undefined;
    if (permissions) for (const p of permissions) out.add(p);
    else custom.push(name);
  }
  for (const role of await store.getRoles(tenantId, custom)) for (const p of role.permissions) out.add(p);
  return out;
}

/**
 * Checks that every role exists and returns the union of their permissions, reading the custom
 * roles once (what inviting or re-roling a user needs).
 */
export async function permissionsOfExistingRoles(
  store: Pick<RoleStore, 'getRoles'>,
  tenantId: string,
  roles: readonly string[],
  path: string,
): Promise<Set<Permission>> {
  const out = new Set<Permission>();
  const customNames = roles.filter((r) => !isBuiltInRole(r));
  const custom = new Map((await store.getRoles(tenantId, customNames)).map((r) => [r.name, r]));
  const problems: { path: string; message: string }[] = [];
  roles.forEach((name, i) => {
    const permissions = isBuiltInRole(name) ? BUILT_IN_ROLES[name] : custom.get(name)?.permissions;
    if (!permissions) problems.push({ path: `${path}.${i}`, message: `unknown role ${name}` });
    else for (const p of permissions) out.add(p);
  });
  if (problems.length > 0) throw new ValidationError('Unknown role.', problems);
  return out;
}

/** A caller cannot hand out permissions they do not hold themselves (no escalation through roles). */
export function assertCanGrant(caller: Caller, permissions: Iterable<Permission>): void {
  const missing = [...permissions].filter((p) => !caller.principal.permissions.has(p));
  if (missing.length > 0) {
    throw new ForbiddenError(`You cannot grant permissions you do not hold: ${missing.join(', ')}.`);
  }
}

/**
 * Rewriting or deleting a role changes what its holders may do, so `roles:manage` is not enough:
 * the caller must hold every permission the role has now, and every permission of every user who
 * holds it (nobody reshapes the role of someone who outranks them).
 */
async function assertOutranksRole(store: RolesAndHolders, caller: Caller, role: Role): Promise<void> {
  assertCanGrant(caller, role.permissions);
  const tenantId = caller.principal.tenantId;
  const holders = (await readAll((p) => store.listUsers(tenantId, p))).filter((u) =>
    u.roles.includes(role.name),
  );
  const roles = [...new Set(holders.flatMap((u) => u.roles))];
  const held = await resolvePermissions(store, tenantId, roles);
  const missing = [...held].filter((p) => !caller.principal.permissions.has(p));
  if (missing.length > 0) {
    throw new ForbiddenError(
      `The role ${role.name} is held by someone with permissions you do not hold (${missing.slice(0, 5).join(', ')}); ask an administrator.`,
    );
  }
}

function assertCustom(name: string): void {
  if (isBuiltInRole(name)) throw new ForbiddenError(`The built-in role ${name} is read-only.`);
}

/** Creates a custom role. */
export async function createRole(
  store: RoleStore,
  caller: Caller,
  input: { name: string; description?: string; permissions: Permission[] },
): Promise<Role> {
  if (isBuiltInRole(input.name)) {
    throw new ConflictError(`${input.name} is a built-in role.`, [
      { path: 'name', message: 'reserved for a built-in role' },
    ]);
  }
  assertCanGrant(caller, input.permissions);
  const role: Role = {
    name: input.name,
    ...(input.description ? { description: input.description } : {}),
    permissions: [...new Set(input.permissions)].sort(),
    builtIn: false,
    createdAt: caller.meta.now,
    updatedAt: caller.meta.now,
  };
  await store.createRole(
    caller.principal.tenantId,
    role,
    audited(caller, { action: 'role.create', resourceType: 'role', resourceId: role.name, after: role }),
  );
  return role;
}

/** Replaces a custom role's permissions. */
export async function updateRole(
  store: RolesAndHolders,
  caller: Caller,
  name: string,
  input: { description?: string; permissions: Permission[] },
): Promise<Role> {
  assertCustom(name);
  const previous = await getRole(store, caller.principal.tenantId, name);
  assertCanGrant(caller, input.permissions);
  await assertOutranksRole(store, caller, previous);
  const next: Role = {
    ...previous,
    ...(input.description !== undefined ? { description: input.description } : {}),
    permissions: [...new Set(input.permissions)].sort(),
    updatedAt: caller.meta.now,
  };
  await store.updateRole(
    caller.principal.tenantId,
    next,
    previous,
    audited(caller, {
      action: 'role.update',
      resourceType: 'role',
      resourceId: name,
      before: previous,
      after: next,
    }),
  );
  return next;
}

/** Deletes a custom role; refused with 409 while users hold it (naming them). */
export async function deleteRole(store: RolesAndHolders, caller: Caller, name: string): Promise<void> {
  assertCustom(name);
  const role = await getRole(store, caller.principal.tenantId, name);
  const holders = (await readAll((p) => store.listUsers(caller.principal.tenantId, p))).filter((u) =>
    u.roles.includes(name),
  );
  if (holders.length > 0) {
    throw new ConflictError(
      `The role ${name} is still assigned to ${holders.length} user(s): ${holders
        .slice(0, 10)
        .map((u) => u.email)
        .join(', ')}.`,
    );
  }
  await store.deleteRole(
    caller.principal.tenantId,
    role,
    audited(caller, { action: 'role.delete', resourceType: 'role', resourceId: name, before: role }),
  );
}
