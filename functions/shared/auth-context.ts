/**
 * What the authorizer hands the API handler, through API Gateway's `requestContext.authorizer.lambda`.
 * API Gateway only carries flat string/number/boolean values, so lists travel space-separated.
 *
 * The authorizer never denies at the gateway: a missing or bad credential comes through as
 * `authenticated: false` with a reason, and the API handler answers 401 as problem+json. HTTP APIs
 * cannot shape the gateway's own 401/403 bodies, and the contract promises problem+json everywhere.
 */
export interface AuthorizerContext {
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
}
