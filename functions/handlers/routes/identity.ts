import { z } from 'zod';
import { adapters } from '#adapters/container.ts';
import { PROVIDER_TYPES } from '#core/identity/model.ts';
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
import { authErrors, created, listOf, pageOf, pageQuery } from './schemas.ts';
import { identityProviderView, ssoSettingsView } from './views.ts';

const providerParams = z.strictObject({
  providerId: z.string().regex(/^p[a-z0-9]{10}$/, 'not an identity provider id'),
});
const roleList = z.array(z.string().min(1).max(40)).max(L.maxRolesPerMapping);
const url = z.string().min(1).max(L.maxUrlLength);
const groupsClaim = z.string().regex(/^[A-Za-z0-9_:.-]{1,64}$/, 'a claim name: letters, digits and _:.-');
const groupMapping = z
  .array(z.strictObject({ group: z.string().min(1).max(L.maxGroupLength), roles: roleList.min(1) }))
  .max(L.maxMappings);
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
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listProviders(deps(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/identity-providers',
    summary:
      'Register an OpenID Connect (or, on AWS, SAML) provider for email domains; first sign-in creates the user with roles mapped from their groups',
    tag: 'identity',
    auth: 'tenant:admin',
    body: z.strictObject({
      type: z.enum(PROVIDER_TYPES),
      name: z.string().min(1).max(100),
      issuer: url.optional(),
      clientId: z.string().min(1).max(255).optional(),
      clientSecret: z.string().min(1).max(1024).optional(),
      metadataUrl: url.optional(),
      emailDomains: z.array(z.string().min(1).max(253)).min(1).max(L.maxDomains),
      groupsClaim: z
        .string()
        .regex(/^[A-Za-z0-9_:.-]{1,64}$/, 'a claim name: letters, digits and _:.-')
        .optional(),
      groupMapping: z
        .array(z.strictObject({ group: z.string().min(1).max(L.maxGroupLength), roles: roleList.min(1) }))
        .max(L.maxMappings)
        .optional(),
      defaultRoles: roleList.optional(),
    }),
    responses: {
      201: { description: 'Registered', schema: identityProviderView, headers: created },
      ...authErrors,
      409: { description: 'An email domain is already routed to a provider, or too many providers' },
    },
    handler: async ({ principal, meta, body }) => {
      const provider = await createProvider(deps(), { principal, meta }, body);
      return {
        status: 201,
        body: provider,
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
      body: await getProvider(deps(), principal.tenantId, params.providerId),
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
    body: z
      .strictObject({
        name: z.string().min(1).max(100).optional(),
        groupsClaim: groupsClaim.optional(),
        groupMapping: groupMapping.optional(),
        defaultRoles: roleList.optional(),
      })
      .refine(
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
      body: await updateProvider(deps(), { principal, meta }, params.providerId, body),
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
    body: z.strictObject({ requireSso: z.boolean() }),
    responses: { 200: { description: 'Updated', schema: ssoSettingsView }, ...authErrors },
    handler: async ({ principal, meta, body }) => ({
      status: 200,
      body: await setSsoSettings(deps(), { principal, meta }, body),
    }),
  }),
];
