import type { Principal, TenantPrincipal } from '../principal.ts';
import type { Tenant } from '../tenancy/model.ts';

/** What `GET /me` shows: the caller, their tenant, roles and effective permissions. */
export interface CallerView {
  readonly tenantId?: string;
  readonly tenant?: { readonly name: string; readonly plan: string; readonly status: string };
  readonly principal: {
    readonly id: string;
    readonly type: TenantPrincipal['principalType'] | 'platform';
    readonly email?: string;
  };
  readonly roles: readonly string[];
  readonly permissions: readonly string[];
}

/** The caller as the API shows it; a tenant principal's tenant is read for its name, plan and status. */
export async function describeCaller(
  deps: { readonly tenants: { getTenant(tenantId: string): Promise<Tenant | undefined> } },
  principal: Principal,
): Promise<CallerView> {
  if (principal.kind === 'platform') {
    return {
      principal: {
        id: principal.principalId,
        type: 'platform',
        ...(principal.email ? { email: principal.email } : {}),
      },
      roles: [],
      permissions: ['platform:admin'],
    };
  }
  const tenant = await deps.tenants.getTenant(principal.tenantId);
  return {
    tenantId: principal.tenantId,
    ...(tenant ? { tenant: { name: tenant.name, plan: tenant.plan, status: tenant.status } } : {}),
    principal: {
      id: principal.principalId,
      type: principal.principalType,
      ...(principal.email ? { email: principal.email } : {}),
    },
    roles: principal.roles,
    permissions: [...principal.permissions].sort(),
  };
}
