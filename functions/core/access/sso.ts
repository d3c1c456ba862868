import type { Tenant, User } from '../tenancy/model.ts';

/**
 * Where a tenant requires single sign-on, only users one of its identity providers provisioned, and
 * whose provider still exists (and the tenant's first admin, the break-glass account) may act: by
 * token, through their API keys, and through the schedules they made. One rule for all three
 * (functions/core/access/authenticate.ts, functions/core/schedules/schedules.ts).
 */
export function ssoAllows(
  tenant: Pick<Tenant, 'requireSso' | 'adminEmail'>,
  user: Pick<User, 'sso' | 'email'>,
): boolean {
  return (
    !tenant.requireSso ||
    (user.sso !== undefined && user.sso.providerRemovedAt === undefined) ||
    user.email === tenant.adminEmail.toLowerCase()
  );
}
