import { z } from 'zod';
import { adapters } from '#adapters/container.ts';
import {
  createApiKey,
  DEFAULT_KEY_LIFETIME_DAYS,
  listApiKeys,
  MAX_GRACE_SECONDS,
  revokeApiKey,
  rotateApiKey,
} from '#core/tenancy/api-keys.ts';
import { createRole, deleteRole, getRole, listRoles, updateRole } from '#core/tenancy/roles.ts';
import { createTeam, deleteTeam, getTeam, listTeams, updateTeam } from '#core/tenancy/teams.ts';
import { deleteUser, eraseUser, inviteUser, listUsers, readUser, updateUser } from '#core/tenancy/users.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { authErrors, created, email, idParam, listOf, pageOf, pageQuery, permission } from './schemas.ts';

const userSchema = z.object({
  userId: z.string(),
  tenantId: z.string(),
  /** Absent once the person was erased. */
  email: z.string().optional(),
  roles: z.array(z.string()),
  teams: z.array(z.string()),
  status: z.enum(['active', 'disabled']),
  createdAt: z.string(),
  updatedAt: z.string(),
  sso: z
    .object({ providerId: z.string() })
    .optional()
    .describe('Set for users made by single sign-on: the provider whose groups decide their roles'),
  erasedAt: z.string().optional(),
});
const teamSchema = z.object({
  teamId: z.string(),
  name: z.string(),
  description: z.string().optional(),
  members: z.array(z.string()).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const roleSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  permissions: z.array(permission),
  builtIn: z.boolean(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
});
const apiKeySchema = z.object({
  keyId: z.string(),
  name: z.string(),
  scopes: z.array(permission),
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  lastUsedAt: z.string().optional(),
  status: z.enum(['active', 'revoked']),
  previousValidUntil: z.string().optional(),
  rotatedAt: z.string().optional(),
  rotatedBy: z.string().optional(),
});

const roleName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,39}$/, 'lower-case letters, digits and dashes, 2 to 40 characters');
const roleList = z.array(z.string().min(1).max(40)).min(1).max(20);
const teamList = z.array(idParam).max(20);
const notFound = { 404: { description: 'Not found in this tenant' } } as const;

const userDeps = () => ({ store: adapters().store, directory: adapters().directory });
const store = () => adapters().store;

/** Users, teams, roles and API keys of the caller's tenant. */
export const accessRoutes: Route[] = [
  // Users
  defineRoute({
    method: 'GET',
    path: '/users',
    summary: 'List users',
    tag: 'users',
    auth: 'users:manage',
    query: pageQuery,
    responses: { 200: { description: 'Users', schema: listOf(userSchema) }, ...authErrors },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listUsers(userDeps(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/users',
    summary: 'Invite a user by email with roles and teams',
    tag: 'users',
    auth: 'users:manage',
    body: z.strictObject({ email, roles: roleList, teams: teamList.optional() }),
    responses: {
      201: { description: 'Invited', schema: userSchema, headers: created },
      ...authErrors,
      409: {
        description: 'Email already used in this tenant (one used elsewhere answers 201, like a new one)',
      },
    },
    handler: async ({ principal, meta, body }) => {
      const user = await inviteUser(userDeps(), { principal, meta }, body);
      return { status: 201, body: user, headers: { location: `/users/${user.userId}` } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/users/{userId}',
    summary: 'Read a user',
    tag: 'users',
    auth: 'users:manage',
    params: z.strictObject({ userId: idParam }),
    responses: { 200: { description: 'The user', schema: userSchema }, ...authErrors, ...notFound },
    handler: async ({ principal, params }) => ({
      status: 200,
      body: await readUser(userDeps(), principal.tenantId, params.userId),
    }),
  }),
  defineRoute({
    method: 'PATCH',
    path: '/users/{userId}',
    summary: 'Change roles or teams, disable or enable',
    tag: 'users',
    auth: 'users:manage',
    params: z.strictObject({ userId: idParam }),
    body: z
      .strictObject({
        roles: roleList.optional(),
        teams: teamList.optional(),
        status: z.enum(['active', 'disabled']).optional(),
      })
      .refine((b) => Object.keys(b).length > 0, 'roles, teams or status is required'),
    responses: { 200: { description: 'Updated', schema: userSchema }, ...authErrors, ...notFound },
    handler: async ({ principal, meta, params, body }) => ({
      status: 200,
      body: await updateUser(userDeps(), { principal, meta }, params.userId, body),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/users/{userId}',
    summary: 'Delete a user and their login',
    tag: 'users',
    auth: 'users:manage',
    params: z.strictObject({ userId: idParam }),
    responses: { 204: { description: 'Deleted' }, ...authErrors, ...notFound },
    handler: async ({ principal, meta, params }) => {
      await deleteUser(userDeps(), { principal, meta }, params.userId);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/users/{userId}/erasure',
    summary:
      "Erase a person's personal data: their login, email, roles and teams go; the profile keeps only the opaque id the audit trail names them by",
    tag: 'users',
    auth: 'users:manage',
    params: z.strictObject({ userId: idParam }),
    responses: {
      200: { description: 'The erased profile', schema: userSchema },
      ...authErrors,
      ...notFound,
      409: { description: 'You cannot erase yourself' },
    },
    handler: async ({ principal, meta, params }) => ({
      status: 200,
      body: await eraseUser(userDeps(), { principal, meta }, params.userId),
    }),
  }),
  // Teams
  defineRoute({
    method: 'GET',
    path: '/teams',
    summary: 'List teams',
    tag: 'teams',
    auth: 'users:manage',
    query: pageQuery,
    responses: { 200: { description: 'Teams', schema: listOf(teamSchema) }, ...authErrors },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listTeams(store(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/teams',
    summary: 'Create a team',
    tag: 'teams',
    auth: 'users:manage',
    body: z.strictObject({
      name: z.string().trim().min(1).max(100),
      description: z.string().max(500).optional(),
      members: z.array(idParam).max(90).optional(),
    }),
    responses: {
      201: { description: 'Created', schema: teamSchema, headers: created },
      ...authErrors,
      409: { description: 'Name in use' },
    },
    handler: async ({ principal, meta, body }) => {
      const team = await createTeam(store(), { principal, meta }, body);
      return { status: 201, body: team, headers: { location: `/teams/${team.teamId}` } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/teams/{teamId}',
    summary: 'Read a team with its members',
    tag: 'teams',
    auth: 'users:manage',
    params: z.strictObject({ teamId: idParam }),
    responses: { 200: { description: 'The team', schema: teamSchema }, ...authErrors, ...notFound },
    handler: async ({ principal, params }) => ({
      status: 200,
      body: await getTeam(store(), principal.tenantId, params.teamId),
    }),
  }),
  defineRoute({
    method: 'PATCH',
    path: '/teams/{teamId}',
    summary: 'Rename a team or replace its members',
    tag: 'teams',
    auth: 'users:manage',
    params: z.strictObject({ teamId: idParam }),
    body: z
      .strictObject({
        name: z.string().trim().min(1).max(100).optional(),
        description: z.string().max(500).optional(),
        members: z.array(idParam).max(90).optional(),
      })
      .refine((b) => Object.keys(b).length > 0, 'name, description or members is required'),
    responses: {
      200: { description: 'Updated', schema: teamSchema },
      ...authErrors,
      ...notFound,
      409: { description: 'Another team has that name' },
    },
    handler: async ({ principal, meta, params, body }) => ({
      status: 200,
      body: await updateTeam(store(), { principal, meta }, params.teamId, body),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/teams/{teamId}',
    summary: 'Delete a team',
    tag: 'teams',
    auth: 'users:manage',
    params: z.strictObject({ teamId: idParam }),
    responses: { 204: { description: 'Deleted' }, ...authErrors, ...notFound },
    handler: async ({ principal, meta, params }) => {
      await deleteTeam(store(), { principal, meta }, params.teamId);
      return { status: 204 };
    },
  }),
  // Roles
  defineRoute({
    method: 'GET',
    path: '/roles',
    summary: 'List built-in and custom roles',
    tag: 'roles',
    auth: 'roles:manage',
    query: pageQuery,
    responses: { 200: { description: 'Roles', schema: listOf(roleSchema) }, ...authErrors },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listRoles(store(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/roles',
    summary: 'Create a custom role',
    tag: 'roles',
    auth: 'roles:manage',
    body: z.strictObject({
      name: roleName,
      description: z.string().max(500).optional(),
      permissions: z.array(permission).min(1),
    }),
    responses: {
      201: { description: 'Created', schema: roleSchema, headers: created },
      ...authErrors,
      409: { description: 'Name in use' },
    },
    handler: async ({ principal, meta, body }) => {
      const role = await createRole(store(), { principal, meta }, body);
      return { status: 201, body: role, headers: { location: `/roles/${role.name}` } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/roles/{name}',
    summary: 'Read a role',
    tag: 'roles',
    auth: 'roles:manage',
    params: z.strictObject({ name: z.string().min(1).max(40) }),
    responses: { 200: { description: 'The role', schema: roleSchema }, ...authErrors, ...notFound },
    handler: async ({ principal, params }) => ({
      status: 200,
      body: await getRole(store(), principal.tenantId, params.name),
    }),
  }),
  defineRoute({
    method: 'PUT',
    path: '/roles/{name}',
    summary: "Replace a custom role's permissions (built-ins are read-only)",
    tag: 'roles',
    auth: 'roles:manage',
    params: z.strictObject({ name: z.string().min(1).max(40) }),
    body: z.strictObject({
      description: z.string().max(500).optional(),
      permissions: z.array(permission).min(1),
    }),
    responses: { 200: { description: 'Updated', schema: roleSchema }, ...authErrors, ...notFound },
    handler: async ({ principal, meta, params, body }) => ({
      status: 200,
      body: await updateRole(store(), { principal, meta }, params.name, body),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/roles/{name}',
    summary: 'Delete a custom role (refused while assigned)',
    tag: 'roles',
    auth: 'roles:manage',
    params: z.strictObject({ name: z.string().min(1).max(40) }),
    responses: {
      204: { description: 'Deleted' },
      ...authErrors,
      ...notFound,
      409: { description: 'Still assigned' },
    },
    handler: async ({ principal, meta, params }) => {
      await deleteRole(store(), { principal, meta }, params.name);
      return { status: 204 };
    },
  }),
  // API keys
  defineRoute({
    method: 'GET',
    path: '/api-keys',
    summary: 'List API keys (never their secrets)',
    tag: 'api-keys',
    auth: 'apikeys:manage',
    query: pageQuery,
    responses: { 200: { description: 'Keys', schema: listOf(apiKeySchema) }, ...authErrors },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listApiKeys(store(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api-keys',
    summary: 'Create an API key; the key is shown once',
    tag: 'api-keys',
    auth: 'apikeys:manage',
    body: z.strictObject({
      name: z.string().trim().min(1).max(100),
      scopes: z.array(permission).min(1).max(50),
      expiresAt: z.iso
        .datetime({ offset: true })
        .optional()
        .describe(
          `When the key stops working; at most a year ahead. Default: ${DEFAULT_KEY_LIFETIME_DAYS} days from now`,
        ),
    }),
    responses: {
      201: { description: 'Created', schema: apiKeySchema.extend({ key: z.string() }), headers: created },
      ...authErrors,
    },
    handler: async ({ principal, meta, body }) => {
      const { view, key } = await createApiKey(store(), { principal, meta }, body);
      return { status: 201, body: { ...view, key }, headers: { location: `/api-keys/${view.keyId}` } };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api-keys/{keyId}',
    summary:
      'Revoke an API key; it stops working within the credential cache TTL (AUTH_CACHE_TTL_SECONDS, 30 s by default)',
    tag: 'api-keys',
    auth: 'apikeys:manage',
    params: z.strictObject({ keyId: idParam }),
    responses: { 204: { description: 'Revoked' }, ...authErrors, ...notFound },
    handler: async ({ principal, meta, params }) => {
      await revokeApiKey(store(), { principal, meta }, params.keyId);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api-keys/{keyId}/rotate',
    summary: 'Issue a new secret; the old one stays valid for the grace period (default 24 h)',
    tag: 'api-keys',
    auth: 'apikeys:manage',
    params: z.strictObject({ keyId: idParam }),
    body: z
      .strictObject({ gracePeriodSeconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).optional() })
      .optional(),
    responses: {
      200: { description: 'Rotated', schema: apiKeySchema.extend({ key: z.string() }) },
      ...authErrors,
      ...notFound,
    },
    handler: async ({ principal, meta, params, body }) => {
      const { view, key } = await rotateApiKey(
        store(),
        { principal, meta },
        params.keyId,
        body?.gracePeriodSeconds,
      );
      return { status: 200, body: { ...view, key } };
    },
  }),
];
