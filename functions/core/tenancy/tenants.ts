import { type AuditContext, actorOf } from '../audit/audit.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { PlatformPrincipal, RequestMeta } from '../principal.ts';
import type { Page, PageRequest, Plan, Tenant, TenantStatus, User } from './model.ts';
import type { IdentityDirectory, TenantStore } from './ports.ts';

/** What tenant use cases need. */
export interface TenantDeps {
  readonly store: TenantStore;
  readonly directory: IdentityDirectory;
}

/** Input of {@link createTenant}. */
export interface CreateTenantInput {
  readonly name: string;
  readonly plan: Plan;
  readonly adminEmail: string;
}

function auditFor(
  tenantId: string,
  principal: PlatformPrincipal,
  meta: RequestMeta,
  draft: AuditContext['draft'],
): AuditContext {
  return { tenantId, actor: actorOf(principal), meta, draft };
}

/**
 * Creates a tenant with its first admin. The login is created first (its `sub` is the user id);
 * if the records then fail to land, the login is deleted again, so nothing is left half-created.
 */
export async function createTenant(
  deps: TenantDeps,
  principal: PlatformPrincipal,
  meta: RequestMeta,
  input: CreateTenantInput,
): Promise<{ tenant: Tenant; admin: User }> {
  const tenantId = newId('t');
  const email = input.adminEmail.toLowerCase();
  const { sub } = await deps.directory.createUser(email, tenantId);
  const tenant: Tenant = {
    tenantId,
    name: input.name,
    plan: input.plan,
    status: 'active',
    adminEmail: email,
    createdAt: meta.now,
    updatedAt: meta.now,
  };
  const admin: User = {
    userId: sub,
    tenantId,
    email,
    roles: ['admin'],
    teams: [],
    status: 'active',
    createdAt: meta.now,
    updatedAt: meta.now,
  };
  try {
    await deps.store.createTenant(
      tenant,
      admin,
      auditFor(tenantId, principal, meta, {
        action: 'tenant.create',
        resourceType: 'tenant',
        resourceId: tenantId,
        after: tenant,
      }),
    );
  } catch (error) {
    await deps.directory.deleteUser(email).catch(() => undefined);
    throw error;
  }
  return { tenant, admin };
}

/** Lists tenants by name. */
export function listTenants(deps: TenantDeps, page: PageRequest): Promise<Page<Tenant>> {
  return deps.store.listTenants(page);
}

/** One tenant, or 404. */
export async function getTenant(deps: TenantDeps, tenantId: string): Promise<Tenant> {
  const tenant = await deps.store.getTenant(tenantId);
  if (!tenant) throw new NotFoundError(`No tenant ${tenantId}.`);
  return tenant;
}

/** Changes a tenant's name, plan or status (suspension takes effect within the authorizer cache TTL). */
export async function updateTenant(
  deps: TenantDeps,
  principal: PlatformPrincipal,
  meta: RequestMeta,
  tenantId: string,
  patch: { readonly name?: string; readonly plan?: Plan; readonly status?: TenantStatus },
): Promise<Tenant> {
  const previous = await getTenant(deps, tenantId);
  // Offboarding is one way: nobody reactivates (or renames) a tenant whose data is being erased.
  if (previous.status === 'offboarding')
    throw new ConflictError(`Tenant ${tenantId} is being offboarded; it can no longer change.`);
  const next: Tenant = { ...previous, ...patch, updatedAt: meta.now };
  await deps.store.updateTenant(
    next,
    previous,
    auditFor(tenantId, principal, meta, {
      action:
        patch.status && patch.status !== previous.status
          ? `tenant.${patch.status === 'suspended' ? 'suspend' : 'activate'}`
          : 'tenant.update',
      resourceType: 'tenant',
      resourceId: tenantId,
      before: previous,
      after: next,
    }),
  );
  return next;
}
