import { ForbiddenError } from '../errors.ts';
import { actingUser } from '../tenancy/api-keys.ts';
import type { Caller } from '../tenancy/context.ts';
import { DEFAULT_SECRET_ROLES } from '../tenancy/model.ts';
import type { SecretMetaStore, UserStore } from '../tenancy/ports.ts';
import type { DefinitionKind } from './model.ts';

/** A secret a definition version uses, the field that names it, and who bound it (saved that version). */
export interface SecretBinding {
  readonly field: string;
  readonly secret: string;
  readonly boundBy: string;
}

/** What checking a binding needs: the secret's metadata, and the roles of a key's creator. */
export interface SecretUseDeps {
  readonly tenancy: Pick<SecretMetaStore, 'getSecretMeta'> & Pick<UserStore, 'getUser'>;
}

/** The field of each kind that names a tenant secret (catalog model: agents' `apiKeySecret`, http tools' `authSecret`). */
const SECRET_FIELDS: Readonly<Record<DefinitionKind, readonly string[]>> = {
  agent: ['apiKeySecret'],
  tool: ['authSecret'],
  workflow: [],
};

/** The secrets a definition names, by field. */
export function secretsUsed(kind: DefinitionKind, definition: unknown): { field: string; secret: string }[] {
  if (typeof definition !== 'object' || definition === null) return [];
  const record = definition as Record<string, unknown>;
  return SECRET_FIELDS[kind].flatMap((field) => {
    const secret = record[field];
    return typeof secret === 'string' ? [{ field, secret }] : [];
  });
}

async function rolesOf(deps: SecretUseDeps, caller: Caller): Promise<readonly string[]> {
  const { principal } = caller;
  if (principal.principalType === 'user') return principal.roles;
  // A key has scopes, not roles: it binds a secret as the person who made it could.
  if (principal.principalType === 'apikey' && principal.onBehalfOf)
    return (await deps.tenancy.getUser(principal.tenantId, principal.onBehalfOf))?.roles ?? [];
  return [];
}

/**
 * Saving a definition that names a secret binds that secret: whoever saves it can point the secret
 * at an endpoint of their choosing, so every save checks every secret it names. The caller needs
 * `secrets:use` and one of the roles the secret allows; a secret that does not exist is refused the
 * same way, so the answer does not tell which names exist. Returns the bindings to record.
 */
export async function bindSecrets(
  deps: SecretUseDeps,
  caller: Caller,
  kind: DefinitionKind,
  definition: unknown,
): Promise<SecretBinding[]> {
  const used = secretsUsed(kind, definition);
  if (used.length === 0) return [];
  if (!caller.principal.permissions.has('secrets:use')) {
    const { field, secret } = used[0] ?? { field: '', secret: '' };
    throw new ForbiddenError(`Binding the secret ${secret} (${field}) needs the permission secrets:use.`);
  }
  const roles = await rolesOf(deps, caller);
  const tenantId = caller.principal.tenantId;
  for (const { field, secret } of used) {
    const meta = await deps.tenancy.getSecretMeta(tenantId, secret);
    const allowed = meta?.allowedRoles ?? DEFAULT_SECRET_ROLES;
    if (!meta || !roles.some((role) => allowed.includes(role))) {
      throw new ForbiddenError(
        `You may not use the secret ${secret} (${field}): it allows none of your roles, or does not exist. Ask someone with secrets:write to add one of your roles to its allowedRoles.`,
      );
    }
  }
  const boundBy = actingUser(caller);
  return used.map((u) => ({ ...u, boundBy }));
}
