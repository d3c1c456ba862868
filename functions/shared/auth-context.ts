import type { AuthResult } from '#core/access/authenticate.ts';
import { isPermission, PLATFORM_ADMIN } from '#core/access/permissions.ts';
import type { Principal } from '#core/principal.ts';

/**
 * What the authorizer hands the API handler, through API Gateway's `requestContext.authorizer.lambda`.
 * API Gateway only carries flat string/number/boolean values, so lists travel space-separated.
 * {@link encodeAuthorizerContext} writes it (the authorizer) and {@link principalFromContext} reads it
 * (the API's router): the one place that knows this encoding.
 *
 * The authorizer never denies at the gateway: a missing or bad credential comes through as
 * `authenticated: false` with a reason, and the API handler answers 401 as problem+json. HTTP APIs
 * cannot shape the gateway's own 401/403 bodies, and the contract promises problem+json everywhere.
 */
export type AuthorizerContext = {
  /** `true` when a credential was verified; `false` carries `reason`. */
  readonly authenticated: boolean;
  /** Why authentication failed (never shown verbatim beyond a short code). */
  readonly reason?: string;
  /** The caller's tenant, from the verified credential; empty for platform operators. */
  readonly tenantId?: string;
  /** User sub, or API key id. */
  readonly principalId?: string;
  readonly principalType?: 'user' | 'apikey' | 'platform';
  /** Space-separated effective permissions. */
  readonly permissions?: string;
  /** Space-separated role names (users) or empty (API keys). */
  readonly roles?: string;
  /** `active` or `suspended`: a suspended tenant's requests are refused by the API with 403. */
  readonly tenantStatus?: string;
  /** The tenant's plan (`free`, `pro`, `enterprise`): picks its rate limits without a table read. */
  readonly tenantPlan?: string;
  readonly email?: string;
  /** API keys: the user who created the key, so nobody approves their own request through a key. */
  readonly keyOwner?: string;
};

/** The authorizer's answer in the flat shape API Gateway carries (no undefined values). */
export function encodeAuthorizerContext(result: AuthResult): AuthorizerContext {
  if (!result.authenticated) return { authenticated: false, reason: result.reason };
  const p = result.principal;
  if (p.kind === 'platform') {
    return {
      authenticated: true,
      principalType: 'platform',
      principalId: p.principalId,
      ...(p.email !== undefined ? { email: p.email } : {}),
      permissions: PLATFORM_ADMIN,
    };
  }
  return {
    authenticated: true,
    tenantId: p.tenantId,
    ...(result.tenant ? { tenantStatus: result.tenant.status, tenantPlan: result.tenant.plan } : {}),
    principalType: p.principalType,
    principalId: p.principalId,
    ...(p.email !== undefined ? { email: p.email } : {}),
    ...(p.onBehalfOf !== undefined ? { keyOwner: p.onBehalfOf } : {}),
    roles: p.roles.join(' '),
    permissions: [...p.permissions].sort().join(' '),
  };
}

/** Builds the principal from the authorizer's context, or undefined when it authenticated nobody. */
export function principalFromContext(ctx: AuthorizerContext | undefined): Principal | undefined {
  if (!ctx || !truthy(ctx.authenticated) || !ctx.principalId) return undefined;
  if (ctx.principalType === 'platform') {
    return { kind: 'platform', principalId: ctx.principalId, ...(ctx.email ? { email: ctx.email } : {}) };
  }
  if (!ctx.tenantId || (ctx.principalType !== 'user' && ctx.principalType !== 'apikey')) return undefined;
  const permissions = new Set((ctx.permissions ?? '').split(' ').filter(isPermission));
  return {
    kind: 'tenant',
    tenantId: ctx.tenantId,
    principalId: ctx.principalId,
    principalType: ctx.principalType,
    roles: (ctx.roles ?? '').split(' ').filter((r) => r !== ''),
    permissions,
    ...(ctx.email ? { email: ctx.email } : {}),
    ...(ctx.principalType === 'apikey' && ctx.keyOwner ? { onBehalfOf: ctx.keyOwner } : {}),
  };
}

function truthy(value: unknown): boolean {
  return value === true || value === 'true';
}
