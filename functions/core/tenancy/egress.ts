import { actorOf } from '../audit/audit.ts';
import { ValidationError } from '../errors.ts';
import { egressProblems, normalizeEgress } from '../net/egress.ts';
import type { PlatformPrincipal, RequestMeta } from '../principal.ts';
import type { TenantDeps } from './tenants.ts';
import { getTenant } from './tenants.ts';

/** A tenant's private-network egress allowlist as the API shows it. */
export interface EgressView {
  readonly tenantId: string;
  readonly allow: readonly string[];
  readonly updatedAt: string;
}

/** The allowlist of a tenant (empty when none was set), or 404. */
export async function getEgress(deps: TenantDeps, tenantId: string): Promise<EgressView> {
  const tenant = await getTenant(deps, tenantId);
  return { tenantId, allow: tenant.egressAllowlist ?? [], updatedAt: tenant.updatedAt };
}

/**
 * Replaces a tenant's allowlist (platform admins only: the route says `auth: 'platform'`). Entries
 * are host names, `*.suffix` wildcards, IP addresses or CIDR blocks; each bad one is named
 * `allow.<i>`. Audited in the tenant's chain with the list before and after.
 */
export async function setEgress(
  deps: TenantDeps,
  principal: PlatformPrincipal,
  meta: RequestMeta,
  tenantId: string,
  allow: readonly string[],
): Promise<EgressView> {
  const problems = egressProblems(allow);
  if (problems.length > 0) {
    throw new ValidationError(`Invalid egress allowlist: ${problems.length} problem(s)`, problems);
  }
  const previous = await getTenant(deps, tenantId);
  const egressAllowlist = normalizeEgress(allow);
  const next = { ...previous, egressAllowlist, updatedAt: meta.now };
  await deps.store.updateTenant(next, previous, {
    tenantId,
    actor: actorOf(principal),
    meta,
    draft: {
      action: 'tenant.egress.update',
      resourceType: 'tenant',
      resourceId: tenantId,
      before: { egressAllowlist: previous.egressAllowlist ?? [] },
      after: { egressAllowlist },
    },
  });
  return { tenantId, allow: egressAllowlist, updatedAt: meta.now };
}
