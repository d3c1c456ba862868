/**
 * The one description of Meridian's Cognito user pool as the runtime sees it: the tenant claim,
 * the groups and the resource-server scopes. The CDK identity construct and the local platform's
 * bootstrap both read it.
 */
export const IDENTITY_SCHEMA = /* @__PURE__ */ Object.freeze({
  /** Custom attribute (without the `custom:` prefix) holding the user's tenant; immutable. */
  tenantAttribute: 'tenant_id',
  /** The claim the tenant travels in on id tokens and in AdminGetUser. */
  tenantClaim: 'custom:tenant_id',
  /**
   * Custom attribute (without `custom:`) the identity providers' group claim is mapped to; the
   * pre-token-generation trigger reads it to set the user's roles. Mutable: every sign-in rewrites it.
   */
  groupsAttribute: 'idp_groups',
  /** Members of this group are platform operators: no tenant, only `/tenants` routes. */
  platformAdminGroup: 'platform-admins',
  /** Resource server identifier and its scopes (used by the hosted login and machine clients). */
  resourceServer: /* @__PURE__ */ Object.freeze({
    identifier: 'meridian',
    scopes: /* @__PURE__ */ Object.freeze([
      { name: 'api', description: 'Call the Meridian API as the signed-in user' },
    ]),
  }),
  /** Auth flows the app client allows besides the hosted login (authorization code + PKCE). */
  passwordAuthFlows: /* @__PURE__ */ Object.freeze(['USER_PASSWORD_AUTH', 'REFRESH_TOKEN_AUTH'] as const),
});
