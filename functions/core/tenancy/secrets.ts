import { NotFoundError } from '../errors.ts';
import { audited, type Caller } from './context.ts';
import type { Page, PageRequest, SecretMeta } from './model.ts';
import type { SecretVault, TenancyStore } from './ports.ts';

/** What secret use cases need. */
export interface SecretDeps {
  readonly store: TenancyStore;
  readonly vault: SecretVault;
}

/**
 * Writes a secret value (write-only: it never comes back out of the API). The value goes to the vault
 * first; the metadata and audit record (which never hold the value) follow in one transaction.
 */
export async function putSecret(
  deps: SecretDeps,
  caller: Caller,
  name: string,
  input: { value: string; description?: string },
): Promise<{ meta: SecretMeta; created: boolean }> {
  const tenantId = caller.principal.tenantId;
  const previous = await deps.store.getSecretMeta(tenantId, name);
  await deps.vault.put(tenantId, name, input.value, input.description);
  const meta: SecretMeta = {
    name,
    ...(input.description !== undefined
      ? { description: input.description }
      : previous?.description !== undefined
        ? { description: previous.description }
        : {}),
    version: (previous?.version ?? 0) + 1,
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
export function listSecrets(
  deps: SecretDeps,
  tenantId: string,
  page: PageRequest,
): Promise<Page<SecretMeta>> {
  return deps.store.listSecrets(tenantId, page);
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
