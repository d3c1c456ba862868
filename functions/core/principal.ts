import type { Permission } from './access/permissions.ts';

/**
 * Who is calling, as established by the authorizer from a verified credential. The tenant always
 * comes from here, never from a path or a body.
 */
export interface TenantPrincipal {
  readonly kind: 'tenant';
  readonly tenantId: string;
  /** User sub or API key id. */
  readonly principalId: string;
  /** `webhook`: a signed call to `/hooks/{webhookId}`; `schedule`: a schedule's firing; each acting for its tenant. */
  readonly principalType: 'user' | 'apikey' | 'webhook' | 'schedule';
  readonly roles: readonly string[];
  readonly permissions: ReadonlySet<Permission>;
  readonly email?: string;
  /** API keys: the user who created the key (the person acting through it). */
  readonly onBehalfOf?: string;
}

/** The people a principal stands for: itself and, for an API key, the user who created it. */
export function actorsOf(principal: TenantPrincipal): string[] {
  return principal.onBehalfOf ? [principal.principalId, principal.onBehalfOf] : [principal.principalId];
}

/** A platform operator: no tenant, only the `/tenants` routes. */
export interface PlatformPrincipal {
  readonly kind: 'platform';
  readonly principalId: string;
  readonly email?: string;
}

/** Any authenticated caller. */
export type Principal = TenantPrincipal | PlatformPrincipal;

/** Request facts recorded with every audited mutation. */
export interface RequestMeta {
  readonly requestId: string;
  readonly sourceIp: string;
  readonly userAgent: string;
  /** ISO 8601 time of the request. */
  readonly now: string;
}
