import { NotFoundError } from '../errors.ts';
import { audited, type Caller } from './context.ts';
import { DEFAULT_SECRET_ROLES, type Page, type PageRequest, type SecretMeta } from './model.ts';
import type { RoleStore, SecretMetaStore, SecretVault } from './ports.ts';
import { permissionsOfExistingRoles } from './roles.ts';

/** What secret use cases need. */
export interface SecretDeps {
  readonly store: SecretMetaStore & Pick<RoleStore, 'getRoles'>;
  readonly vault: SecretVault;
}

/**
 * Writes a secret value (write-only: it never comes back out of the API). The value goes to the vault
 * first; the metadata and audit record (which never hold the value) follow in one transaction.
 * `allowedRoles` says whose holders may bind it to agents and tools: kept when omitted on a
 * rewrite, {@link DEFAULT_SECRET_ROLES} (admins only) when omitted on creation.
 */
export async function putSecret(
  deps: SecretDeps,
  caller: Caller,
  name: string,
  input: { value: string; description?: string | undefined; allowedRoles?: string[] | undefined },
): Promise<{ meta: SecretMeta; created: boolean }> {
  const tenantId = caller.principal.tenantId;
  const previous = await deps.store.getSecretMeta(tenantId, name);
  const allowedRoles = [
    ...new Set(input.allowedRoles ?? previous?.allowedRoles ?? DEFAULT_SECRET_ROLES),
  ].sort();
  if (input.allowedRoles)
    await permissionsOfExistingRoles(deps.store, tenantId, input.allowedRoles, 'allowedRoles');
  await deps.vault.put(tenantId, name, input.value, input.description);
  const meta: SecretMeta = {
    name,
    ...(input.description !== undefined
      ? { description: input.description }
      : previous?.description !== undefined
        ? { description: previous.description }
        : {}),
    version: (previous?.version ?? 0) + 1,
    allowedRoles,
    createdAt: previous?.createdAt ?? caller.meta.now,
    updatedAt: caller.meta.now,
  };
  await deps.store.putSecretMeta(
    tenantId,
    meta,
    previous,
    audited(caller, {
      action: previous ? 'secret.update' : 'secret.create',
      resourceType: 'secret',
      resourceId: name,
      ...(previous ? { before: previous } : {}),
      after: meta,
    }),
  );
  return { meta, created: !previous };
}

/** Lists secret names and metadata. */
export async function listSecrets(
  deps: SecretDeps,
  tenantId: string,
  page: PageRequest,
): Promise<Page<SecretMeta>> {
  const out = await deps.store.listSecrets(tenantId, page);
  return {
    ...out,
    items: out.items.map((m) => ({ ...m, allowedRoles: m.allowedRoles ?? DEFAULT_SECRET_ROLES })),
  };
}

/** Deletes a secret: metadata (and so visibility) first, then the value. */
export async function deleteSecret(deps: SecretDeps, caller: Caller, name: string): Promise<void> {
  const tenantId = caller.principal.tenantId;
  const meta = await deps.store.getSecretMeta(tenantId, name);
  if (!meta) throw new NotFoundError(`No secret ${name}.`);
  await deps.store.deleteSecretMeta(
    tenantId,
    meta,
    audited(caller, { action: 'secret.delete', resourceType: 'secret', resourceId: name, before: meta }),
  );
  await deps.vault.delete(tenantId, name);
}
