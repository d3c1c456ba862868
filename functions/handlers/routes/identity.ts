import { adapters } from '#adapters/wiring/api.ts';
import { verifyDomain } from '#core/identity/domains.ts';
import { PROVIDER_TYPES, providerView } from '#core/identity/model.ts';
import {
  createProvider,
  deleteProvider,
  getProvider,
  getSsoSettings,
  PROVIDER_INPUT_LIMITS as L,
  listProviders,
  setSsoSettings,
  updateProvider,
} from '#core/identity/providers.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { oneOf, refined, t, withMessage, withOptions } from '#shared/schema.ts';
import { authErrors, created, listOf, pageOf, pageQuery } from './schemas.ts';
import { identityProviderView, ssoSettingsView } from './views.ts';

const providerParams = t.Object(
  {
    providerId: withMessage(t.String({ pattern: '^p[a-z0-9]{10}$' }), 'not an identity provider id'),
  },
  { additionalProperties: false },
);
const roleList = t.Array(t.String({ minLength: 1, maxLength: 40 }), { maxItems: L.maxRolesPerMapping });
const url = t.String({ minLength: 1, maxLength: L.maxUrlLength });
const groupsClaim = withMessage(
  t.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' }),
  'a claim name: letters, digits and _:.-',
);
const groupMapping = t.Array(
  t.Object(
    {
      group: t.String({ minLength: 1, maxLength: L.maxGroupLength }),
      roles: withOptions(roleList, { minItems: 1 }),
    },
    { additionalProperties: false },
  ),
  { maxItems: L.maxMappings },
);
const deps = () => adapters().identity;

/** Single sign-on: a tenant's identity providers and whether it requires SSO (`tenant:admin`). */
export const identityRoutes: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/identity-providers',
    summary: "List the tenant's identity providers (never their client secrets)",
    tag: 'identity',
    auth: 'tenant:admin',
    query: pageQuery,
    responses: {
      200: { description: 'Identity providers', schema: listOf(identityProviderView) },
      ...authErrors,
    },
    handler: async ({ principal, query }) => {
      const page = await listProviders(deps(), principal.tenantId, pageOf(query));
      return { status: 200, body: { ...page, items: page.items.map(providerView) } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/identity-providers',
    summary:
      'Register an OpenID Connect (or, on AWS, SAML) provider for email domains, each signing in once verified by its TXT record; first sign-in creates the user with roles mapped from their groups',
    tag: 'identity',
    auth: 'tenant:admin',
    body: t.Object(
      {
        type: oneOf(PROVIDER_TYPES),
        name: t.String({ minLength: 1, maxLength: 100 }),
        issuer: t.Optional(url),
        clientId: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
        clientSecret: t.Optional(t.String({ minLength: 1, maxLength: 1024 })),
        metadataUrl: t.Optional(url),
        emailDomains: t.Array(t.String({ minLength: 1, maxLength: 253 }), {
          minItems: 1,
          maxItems: L.maxDomains,
        }),
        groupsClaim: t.Optional(groupsClaim),
        groupMapping: t.Optional(groupMapping),
        defaultRoles: t.Optional(roleList),
      },
      { additionalProperties: false },
    ),
    responses: {
      201: { description: 'Registered', schema: identityProviderView, headers: created },
      ...authErrors,
      409: { description: 'Too many providers (a tenant has at most 10)' },
    },
    handler: async ({ principal, meta, body }) => {
      const provider = await createProvider(deps(), { principal, meta }, body);
      return {
        status: 201,
        body: providerView(provider),
        headers: { location: `/identity-providers/${provider.providerId}` },
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/identity-providers/{providerId}',
    summary: 'Read an identity provider',
    tag: 'identity',
    auth: 'tenant:admin',
    params: providerParams,
    responses: {
      200: { description: 'The provider', schema: identityProviderView },
      ...authErrors,
      404: { description: 'Not found in this tenant' },
    },
    handler: async ({ principal, params }) => ({
      status: 200,
      body: providerView(await getProvider(deps(), principal.tenantId, params.providerId)),
    }),
  }),
  defineRoute({
    method: 'PATCH',
    path: '/identity-providers/{providerId}',
    summary:
      "Change a provider's name, groups claim, group → role mapping or default roles; users get the new roles at their next sign-in",
    tag: 'identity',
    auth: 'tenant:admin',
    params: providerParams,
    body: refined(
      t.Object(
        {
          name: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
          groupsClaim: t.Optional(groupsClaim),
          groupMapping: t.Optional(groupMapping),
          defaultRoles: t.Optional(roleList),
        },
        { additionalProperties: false },
      ),
      (b) => Object.keys(b).length > 0,
      'name, groupsClaim, groupMapping or defaultRoles is required',
    ),
    responses: {
      200: { description: 'Updated', schema: identityProviderView },
      ...authErrors,
      404: { description: 'Not found in this tenant' },
      409: { description: 'Changed meanwhile: read it again and retry' },
    },
    handler: async ({ principal, meta, params, body }) => ({
      status: 200,
      body: providerView(await updateProvider(deps(), { principal, meta }, params.providerId, body)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/identity-providers/{providerId}/domains/{domain}/verify',
    summary:
      "Verify one of the provider's email domains by its TXT record (`domains[].record`): then its users sign in through the provider, and no other provider can take it",
    tag: 'identity',
    auth: 'tenant:admin',
    params: t.Object(
      {
        ...providerParams.properties,
        domain: t.String({ minLength: 1, maxLength: 253 }),
      },
      { additionalProperties: false },
    ),
    responses: {
      200: { description: 'Verified (or already was)', schema: identityProviderView },
      ...authErrors,
      404: { description: 'No such provider in this tenant, or not one of its domains' },
      409: {
        description:
          'The TXT record is not published yet, another provider proved the domain first, the provider has no verification token (registered before domains were verified), or a concurrent change (retry)',
      },
      503: {
        description: 'The DNS lookup failed, or routing could not be updated yet: verify again shortly',
      },
    },
    handler: async ({ principal, meta, params }) => ({
      status: 200,
      body: providerView(await verifyDomain(deps(), { principal, meta }, params.providerId, params.domain)),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/identity-providers/{providerId}',
    summary:
      'Delete an identity provider: its domains are released and its users can no longer sign in through it',
    tag: 'identity',
    auth: 'tenant:admin',
    params: providerParams,
    responses: {
      204: { description: 'Deleted' },
      ...authErrors,
      404: { description: 'Not found in this tenant' },
      409: { description: 'The last provider while SSO is required' },
    },
    handler: async ({ principal, meta, params }) => {
      await deleteProvider(deps(), { principal, meta }, params.providerId);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/sso',
    summary: 'Whether the tenant requires single sign-on',
    tag: 'identity',
    auth: 'tenant:admin',
    responses: { 200: { description: 'SSO settings', schema: ssoSettingsView }, ...authErrors },
    handler: async ({ principal }) => ({
      status: 200,
      body: await getSsoSettings(deps(), principal.tenantId),
    }),
  }),
  defineRoute({
    method: 'PUT',
    path: '/sso',
    summary:
      "Require single sign-on (or stop): then only SSO users and the tenant's first admin (break-glass) sign in, and only their keys work",
    tag: 'identity',
    auth: 'tenant:admin',
    body: t.Object({ requireSso: t.Boolean() }, { additionalProperties: false }),
    responses: { 200: { description: 'Updated', schema: ssoSettingsView }, ...authErrors },
    handler: async ({ principal, meta, body }) => ({
      status: 200,
      body: await setSsoSettings(deps(), { principal, meta }, body),
    }),
  }),
];
